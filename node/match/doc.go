// Package match finds the people that two records describe as one: the same
// missing person reported twice (a neighbour in Punta Gorda, a cousin in
// Belize City, spelling the name two ways), and a missing person registered
// in a shelter.
//
// The model is Fellegi–Sunter as Splink uses it: each attribute (first name,
// surnames, age, sex, place) is compared at one of a few levels, each level
// has an m probability (how often two records of one person agree at that
// level) and a u probability (how often two records of different people do),
// the match weight is the prior's log2 odds plus the sum of log2(m/u), and
// the score is that weight turned back into a probability. docs/matching.md
// gives the levels, the figures and why.
//
// Names are folded before they are compared (accents, case, apostrophes,
// "Surname, First" order), first names through a table of Spanish and
// English nicknames, surnames as a set (a second Spanish surname is often
// dropped) and through a table of Maya and Mennonite spellings.
//
// An Index compares each person added only with the people it shares a
// block with (a surname's sound and first initial, or a first name and
// district, each within an age band), so that hundreds of thousands of
// people are matched in seconds; what it finds does not depend on the
// order in which people are added.
//
// The package reads no records itself: the caller builds a Person from a
// missing-person or sheltered-person record. An Index is not safe for
// concurrent use; Compare is.
package match
