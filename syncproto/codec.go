package syncproto

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Limits bound what a decoder accepts from the network or a file.
const (
	// MaxChangeBytes bounds one encoded change. The largest text field a kit
	// may declare is far below it.
	MaxChangeBytes = 256 << 10
	// MaxFields bounds the fields one change may set.
	MaxFields = 256
	// MaxBases bounds the versions one field value may replace: the heads of
	// a field in conflict, which a person resolves long before this.
	MaxBases = 64
	// MaxNameLen bounds record type, kit and field names.
	MaxNameLen = 64
	// MaxAuthorLen bounds an author's name.
	MaxAuthorLen = 128
	// maxNesting bounds CBOR nesting; Lifeline's deepest value is an array of
	// arrays inside a field inside a change.
	maxNesting = 12
	// maxItems bounds any CBOR array or map.
	maxItems = 1 << 16
)

// encMode writes Core Deterministic Encoding (RFC 8949 section 4.2.1): the
// same value always gives the same bytes, which hashing and signing need.
// decMode refuses duplicate map keys, indefinite lengths, tags and invalid
// UTF-8, and bounds depth and counts.
// partMode is decMode that skips the map keys v does not name.
var (
	encMode  cbor.EncMode
	decMode  cbor.DecMode
	partMode cbor.DecMode
)

func init() {
	var err error
	encOpts := cbor.CoreDetEncOptions()
	encOpts.IndefLength = cbor.IndefLengthForbidden
	encOpts.TagsMd = cbor.TagsForbidden
	// A nil list and an empty one mean the same; they must be the same bytes.
	encOpts.NilContainers = cbor.NilContainerAsEmpty
	if encMode, err = encOpts.EncMode(); err != nil {
		panic(fmt.Sprintf("syncproto: CBOR encoder options: %v", err))
	}
	decOpts := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   maxNesting,
		MaxArrayElements:  maxItems,
		MaxMapPairs:       maxItems,
		UTF8:              cbor.UTF8RejectInvalid,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		IntDec:            cbor.IntDecConvertSigned,
	}
	if decMode, err = decOpts.DecMode(); err != nil {
		panic(fmt.Sprintf("syncproto: CBOR decoder options: %v", err))
	}
	decOpts.ExtraReturnErrors = cbor.ExtraDecErrorNone
	if partMode, err = decOpts.DecMode(); err != nil {
		panic(fmt.Sprintf("syncproto: CBOR decoder options: %v", err))
	}
}

// Marshal encodes v in Lifeline's canonical CBOR.
func Marshal(v any) ([]byte, error) { return encMode.Marshal(v) }

// Unmarshal decodes untrusted CBOR into v with Lifeline's bounds.
func Unmarshal(data []byte, v any) error { return decMode.Unmarshal(data, v) }

// UnmarshalPart decodes the part of data that v names, with the same
// bounds, skipping map keys v does not have: for reading one field of a
// larger struct without building the rest.
func UnmarshalPart(data []byte, v any) error { return partMode.Unmarshal(data, v) }

// Valid reports whether data is one well-formed CBOR item within bounds.
func Valid(data []byte) error { return decMode.Wellformed(data) }
