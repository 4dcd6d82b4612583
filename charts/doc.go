// Package charts draws headquarters' charts of the records: damage by
// level per district, shelter occupancy against capacity, people reported
// missing and found per day, and records written per hour per district.
// Each is drawn into an image of the size asked for, which the desktop
// shows and the situation report embeds; the package knows nothing of
// windows or pages.
//
// The colours are chosen to be told apart by people with the common
// forms of colour blindness: the damage levels are a sequential ramp
// (viridis, light for none to dark for destroyed), the rest the
// Okabe–Ito palette.
package charts
