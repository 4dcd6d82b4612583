// Package xlsform turns an XLSForm, the .xlsx form definition that ODK
// Collect and KoboToolbox read, into a Lifeline kit file, so that a district
// can bring the forms it already uses.
//
// An XLSForm has a survey sheet (one row per question), a choices sheet (the
// lists that select_one and select_multiple questions name) and a settings
// sheet (form_title, form_id, version). Convert reads them and builds one
// kit of one district-scoped record type. What a kit cannot hold (notes,
// metadata such as start and deviceid, choice filters, appearances, question
// types Lifeline lacks) is left out and listed in the Report, one line each
// with its sheet and row; a form that cannot become a kit at all (no survey
// sheet, two questions of one name, a select whose list is missing) is an
// *Error that names the sheet, row and column.
//
// The file is untrusted: it is at most MaxFileSize bytes and unzips to at
// most MaxUnzipSize holding at most MaxMarkup tags and attributes, a sheet
// has at most MaxRows rows and a cell at most MaxCell bytes, a list at most
// schemas.MaxChoices choices, the kit written at most what a sync hello
// carries of one, and every rule carried (relevant, constraint,
// calculation, default, required) is parsed by package schemas/expr, so
// that a rule the kit could not evaluate is reported here rather than found
// on a laptop.
package xlsform
