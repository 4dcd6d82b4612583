package desktop

import (
	"time"

	"lifeline/schemas"
)

// showTime is how every screen shows a moment: the laptop's local time,
// with its zone, so that a time read beside another is never in another
// zone ("2026-11-20 02:05 CST").
func showTime(t time.Time) string { return t.Local().Format("2006-01-02 15:04 MST") }

// showStamp shows an RFC 3339 time as showTime does, or otherwise when it
// is not one.
func showStamp(at, otherwise string) string {
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return otherwise
	}
	return showTime(t)
}

// fieldText shows a field's value the way its kit describes it (choices
// by their labels), a date and time in local time with its zone.
func fieldText(f *schemas.Field, value any, lang string) string {
	if f != nil && f.Type == schemas.DateTime {
		if s, ok := value.(string); ok {
			return showStamp(s, s)
		}
	}
	return f.FormatValue(value, lang)
}

// fieldOf is the field of t named name; t may be nil (a kit this node
// does not hold).
func fieldOf(t *schemas.Type, name string) (*schemas.Field, bool) {
	if t == nil {
		return nil, false
	}
	return t.Field(name)
}
