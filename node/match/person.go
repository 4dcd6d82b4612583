package match

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Record says which kind of record a Person was built from.
type Record uint8

const (
	// Missing is a missing-person report (kit missing-persons): the
	// caller gives last_seen_village (or last_seen_place) as Village and
	// district as District.
	Missing Record = iota + 1
	// Sheltered is a sheltered-person registration (kit
	// shelter-registration): the caller gives home_village as Village and
	// home_district as District, not the shelter's, since a person is
	// matched by where they come from.
	Sheltered
)

func (r Record) String() string {
	switch r {
	case Missing:
		return "missing-person"
	case Sheltered:
		return "sheltered-person"
	}
	return fmt.Sprintf("record(%d)", uint8(r))
}

// Kind says what a candidate pair would mean.
type Kind string

const (
	// Duplicate: two missing-person reports of one person.
	Duplicate Kind = "duplicate"
	// Found: a missing person registered in a shelter.
	Found Kind = "found"
)

// Person is what the matcher reads of one record.
type Person struct {
	ID       string // the record's id
	Record   Record
	FullName string // as written: "POP COC, MARIA", "María Pop"
	// AlsoKnownAs is another name the record gives the person (kit
	// missing-persons, also_known_as): a word is what the first name is
	// called ("Lupe", "Chino"); a name of two words or more is another
	// name the person goes by, a married or a maiden name ("Maria Bol").
	AlsoKnownAs string
	Sex         string // "female", "male", or "" / "unknown"
	Age         int    // years; read only when AgeKnown
	AgeKnown    bool
	Village     string // village, town or city
	District    string // one of the six districts, as the kits spell them
	At          time.Time
}

// Limits on what a Person may hold. The kits allow 120 characters for a
// name and 200 for a place; the limits here are in bytes and leave room.
const (
	MaxIDBytes       = 128
	MaxNameBytes     = 480
	MaxVillageBytes  = 800
	MaxDistrictBytes = 64
	MaxAge           = 130
)

// ErrInvalid is wrapped by the error for a Person the matcher refuses.
var ErrInvalid = errors.New("match: person refused")

// ErrDuplicateID is returned by Index.Add for an id already added.
var ErrDuplicateID = errors.New("match: id already added")

// Validate says what is wrong with p, if anything.
func (p *Person) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: record %.40q: %s", ErrInvalid, p.ID, fmt.Sprintf(format, args...))
	}
	switch {
	case p.ID == "":
		return bad("no id")
	case len(p.ID) > MaxIDBytes:
		return bad("id is %d bytes, over %d", len(p.ID), MaxIDBytes)
	case p.Record != Missing && p.Record != Sheltered:
		return bad("record kind %d is neither missing-person nor sheltered-person", p.Record)
	case len(p.FullName) > MaxNameBytes:
		return bad("full name is %d bytes, over %d", len(p.FullName), MaxNameBytes)
	case !utf8.ValidString(p.FullName):
		return bad("full name is not valid UTF-8")
	case len(p.AlsoKnownAs) > MaxNameBytes:
		return bad("also-known-as is %d bytes, over %d", len(p.AlsoKnownAs), MaxNameBytes)
	case !utf8.ValidString(p.AlsoKnownAs):
		return bad("also-known-as is not valid UTF-8")
	case len(p.Village) > MaxVillageBytes:
		return bad("village is %d bytes, over %d", len(p.Village), MaxVillageBytes)
	case !utf8.ValidString(p.Village):
		return bad("village is not valid UTF-8")
	case len(p.District) > MaxDistrictBytes:
		return bad("district is %d bytes, over %d", len(p.District), MaxDistrictBytes)
	case !utf8.ValidString(p.District):
		return bad("district is not valid UTF-8")
	case p.AgeKnown && (p.Age < 0 || p.Age > MaxAge):
		return bad("age %d is outside 0 to %d", p.Age, MaxAge)
	}
	switch p.Sex {
	case "", "female", "male", "unknown":
	default:
		return bad("sex %.20q is none of female, male, unknown", p.Sex)
	}
	return nil
}

// Candidate is a pair of records that may be one person.
type Candidate struct {
	A, B string // the records' ids, A < B
	Kind Kind
	// Report is, for a Found pair, the id of the missing-person report.
	Report  string
	Score   float64 // the probability that A and B are one person, 0 to 1
	Weight  float64 // the match weight in bits (log2 odds), prior included
	Reasons []Reason
	// evidence is Weight without the prior: what the two records say.
	evidence float64
}

// ReasonsIn renders the reasons in English ("en") or Spanish ("es").
func (c Candidate) ReasonsIn(lang string) []string {
	out := make([]string, len(c.Reasons))
	for i, r := range c.Reasons {
		out[i] = r.In(lang)
	}
	return out
}
