// Package fieldkits holds NEMO's field kits, the record types responders
// fill in for each scenario, as YAML files a person can read and edit, and
// loads them.
//
// The kit files are embedded in every Lifeline binary, so a laptop that has
// never been online has them. A kit file is checked when it is loaded; an
// error names the file, the line and the field, so that whoever edited the
// file can find the mistake.
package fieldkits
