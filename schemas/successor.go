package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// CompareVersions orders two kit versions, dotted numbers: "1.10.0" comes
// after "1.9", and "1.2" is "1.2.0". Each number is compared by its digits
// (leading zeros dropped, the longer is greater, then digit by digit),
// never converted, so that every node orders any two texts alike whatever
// their size. It returns -1, 0 or +1.
func CompareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(pa), len(pb)) {
		var x, y string
		if i < len(pa) {
			x = strings.TrimLeft(pa[i], "0")
		}
		if i < len(pb) {
			y = strings.TrimLeft(pb[i], "0")
		}
		if c := len(x) - len(y); c != 0 {
			return sign(c)
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

func sign(i int) int {
	switch {
	case i < 0:
		return -1
	case i > 0:
		return 1
	}
	return 0
}

// ValidVersion reports whether v is a kit version: 1.0 or 1.2.3.
func ValidVersion(v string) bool { return kitVersionRE.MatchString(v) }

// CheckSuccessor checks that k may replace prev, the kit of its name that
// nodes hold now: records were written under prev and synced under its
// promises, and a new version may not withdraw one. k's version is after
// prev's, and for every type of prev:
//
//   - the type is still declared, with the same priority (its records'
//     lane) and a schema version never lowered, and raised if anything of
//     the type changed (a label included);
//   - every field is still declared, of the same value type, referring to
//     the same type; a personal field stays personal; a field that was
//     optional stays optional; bounds only widen; choices are only added,
//     the old ones kept, with their values and in their order (a multi
//     field's value lists them in that order);
//   - a field new to the type is optional: the records already written
//     lack it;
//   - the fields of a repeat's rows keep the same promises as the type's
//     own.
//
// Like Check, it returns every broken promise, located in k where it can
// be (a removed type or field at the kit or type that lost it). k must
// have been checked.
func (k *Kit) CheckSuccessor(prev *Kit) []*DefinitionError {
	var errs []*DefinitionError
	kitErr := func(key, format string, args ...any) {
		errs = append(errs, &DefinitionError{Kit: k.Name, TypeIndex: -1, FieldIdx: -1, Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if k.Name != prev.Name {
		kitErr("kit", "replaces kit %q: a kit is replaced only by a kit of its name", prev.Name)
		return errs
	}
	if CompareVersions(k.Version, prev.Version) <= 0 {
		kitErr("version", "%s is not after %s, the version it would replace: raise it", k.Version, prev.Version)
	}
	at := map[string]int{}
	for i, t := range k.Types {
		at[t.Name] = i
	}
	for _, pt := range prev.Types {
		ti, ok := at[pt.Name]
		if !ok {
			errs = append(errs, &DefinitionError{Kit: k.Name, TypeIndex: -1, Type: pt.Name, FieldIdx: -1, Key: "types",
				Msg: "the type is removed, and records of it exist: keep it (a type is never removed, only left unused)"})
			continue
		}
		errs = append(errs, k.Types[ti].checkSuccessor(k.Name, ti, pt)...)
	}
	return errs
}

// checkSuccessor checks a type against its previous definition; ti is its
// index in its kit.
func (t *Type) checkSuccessor(kit string, ti int, prev *Type) []*DefinitionError {
	var errs []*DefinitionError
	typeErr := func(key, format string, args ...any) {
		errs = append(errs, &DefinitionError{Kit: kit, TypeIndex: ti, Type: t.Name, FieldIdx: -1, Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if t.Priority != prev.Priority {
		typeErr("priority", "priority %d, was %d: a type keeps its priority, the lane its records sync in", t.Priority, prev.Priority)
	}
	at := map[string]int{}
	for i, f := range t.Fields {
		at[f.Name] = i
	}
	for _, pf := range prev.Fields {
		fi, ok := at[pf.Name]
		if !ok {
			typeErr("fields", "field %q is removed, and records hold values of it: keep it (a field is never removed, only left optional)", pf.Name)
			continue
		}
		f := t.Fields[fi]
		errAt := func(name string) func(key, format string, args ...any) {
			return func(key, format string, args ...any) {
				errs = append(errs, &DefinitionError{Kit: kit, TypeIndex: ti, Type: t.Name, FieldIdx: fi, Field: name, Key: key, Msg: fmt.Sprintf(format, args...)})
			}
		}
		f.checkSuccessor(pf, errAt(f.Name))
		delete(at, pf.Name)
		// A repeat's fields are fields of its rows, which records hold:
		// they keep the same promises.
		if f.Type != Repeat || pf.Type != Repeat {
			continue
		}
		for _, pnf := range pf.Fields {
			if nf, ok := f.byName[pnf.Name]; ok {
				nf.checkSuccessor(pnf, errAt(f.Name+"."+nf.Name))
			} else {
				errAt(f.Name)("fields", "field %q of its rows is removed, and rows hold values of it: keep it (a field is never removed, only left optional)", pnf.Name)
			}
		}
		for _, nf := range f.Fields {
			if _, kept := pf.byName[nf.Name]; !kept && nf.Required.Always {
				errAt(f.Name+"."+nf.Name)("required", "required is set on a field added to the rows of an existing repeat: the rows written before it lack it")
			}
		}
	}
	for fi, f := range t.Fields {
		if _, added := at[f.Name]; added && f.Required.Always {
			errs = append(errs, &DefinitionError{Kit: kit, TypeIndex: ti, Type: t.Name, FieldIdx: fi, Field: f.Name, Key: "required",
				Msg: "required is set on a field added to an existing type: the records written before it lack it"})
		}
	}
	// Last: what changed the type says more than that it changed.
	switch {
	case t.Version < prev.Version:
		typeErr("version", "schema version %d is below %d, the one it replaces", t.Version, prev.Version)
	case t.Version == prev.Version && !sameDefinition(t, prev):
		typeErr("version", "the type changed but its schema version is still %d: raise it to %d", t.Version, prev.Version+1)
	}
	return errs
}

func (f *Field) checkSuccessor(prev *Field, fail func(key, format string, args ...any)) {
	if f.Type != prev.Type {
		fail("type", "type %s, was %s: a field keeps its value type", f.Type, prev.Type)
		return
	}
	if f.Ref != prev.Ref {
		fail("ref", "refers to %q, was %q: a field keeps the type it refers to", f.Ref, prev.Ref)
	}
	if prev.Personal && !f.Personal {
		fail("personal", "personal is no longer set: a field that held a citizen's personal data stays personal")
	}
	if f.Required.Always && !prev.Required.Always {
		fail("required", "required is set on a field that was optional: records written before may lack it")
	}
	lo, hi := f.bounds()
	plo, phi := prev.bounds()
	if lo > plo {
		fail("min", "min %v narrows the bound, which was %v: bounds only widen", lo, plo)
	}
	if hi < phi {
		fail("max", "max %v narrows the bound, which was %v: bounds only widen", hi, phi)
	}
	next := 0 // where the next old choice may be found
	for _, pc := range prev.Choices {
		i := next
		for i < len(f.Choices) && f.Choices[i].Value != pc.Value {
			i++
		}
		if i == len(f.Choices) {
			if j, ok := f.choiceAt[pc.Value]; ok && j < next {
				fail("choices", "choice %q is moved before another that came before it: old choices keep their order", pc.Value)
			} else {
				fail("choices", "choice %q is removed, and records may hold it: choices are only added", pc.Value)
			}
			continue
		}
		next = i + 1
	}
}

// bounds are the least and greatest value, length or count a field
// accepts, with the defaults that apply where the kit gives none.
func (f *Field) bounds() (lo, hi float64) {
	lo, hi = math.Inf(-1), math.Inf(1)
	switch f.Type {
	case Text:
		lo, hi = 0, DefaultMaxText
	case Multi:
		lo, hi = 0, float64(len(f.Choices))
	case Photo:
		lo, hi = 0, DefaultMaxPhotos
	}
	if f.Min != nil {
		lo = *f.Min
	}
	if f.Max != nil {
		hi = *f.Max
	}
	return lo, hi
}

// sameDefinition reports whether two definitions of a type agree in
// everything but their schema version.
func sameDefinition(a, b *Type) bool {
	x, y := *a, *b
	x.Version, y.Version = 0, 0
	jx, err1 := json.Marshal(&x)
	jy, err2 := json.Marshal(&y)
	return err1 == nil && err2 == nil && bytes.Equal(jx, jy)
}
