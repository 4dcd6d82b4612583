package xlsform

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Bounds on a form file. A real XLSForm is a few hundred rows and tens of
// kilobytes; these leave room for the largest NEMO uses and refuse a file
// built to exhaust a laptop.
const (
	MaxFileSize  = 20 << 20 // bytes of the .xlsx file
	MaxUnzipSize = 64 << 20 // bytes of all its parts unzipped
	MaxRows      = 5000     // rows of one sheet, the header included
	MaxColumns   = 256      // columns of one sheet
	MaxCell      = 4096     // bytes of one cell
	MaxNesting   = 32       // groups and a repeat, one inside another
	MaxMarkup    = 1 << 20  // tags and attributes of all its parts
)

// ErrForm is wrapped by every error about a form file.
var ErrForm = errors.New("XLSForm")

// ErrLimit means a form file is over one of the bounds above.
var ErrLimit = errors.New("over a limit")

// Error is why a form cannot become a kit, and where: Sheet and Row (from 1,
// as a spreadsheet shows it) and Column (its letter and heading), each empty
// or 0 where it does not apply.
type Error struct {
	Sheet  string
	Row    int
	Column string
	Msg    string
	Err    error // ErrLimit for a file over a bound, else nil
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Sheet != "" {
		b.WriteString(e.Sheet)
		if e.Row > 0 {
			fmt.Fprintf(&b, " row %d", e.Row)
		}
		if e.Column != "" {
			fmt.Fprintf(&b, ", column %s", e.Column)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrForm, e.Err}
	}
	return []error{ErrForm}
}

// sheet is one sheet of the form: its header and the rows below it, with
// their numbers, empty rows left out.
type sheet struct {
	name      string         // as the file spells it
	headerRow int            // its number
	heads     []string       // the header's cells, trimmed
	col       map[string]int // a heading, lower case, to its index
	rows      []row
}

type row struct {
	n     int
	cells []string
}

// get returns the cell of r under heading (lower case), trimmed.
func (s *sheet) get(r row, heading string) string {
	i, ok := s.col[heading]
	if !ok || i >= len(r.cells) {
		return ""
	}
	return strings.TrimSpace(r.cells[i])
}

// where names a column as a person finds it: its letter and heading.
func (s *sheet) where(heading string) string {
	i, ok := s.col[heading]
	if !ok {
		return heading
	}
	return columnName(i, s.heads[i])
}

func columnName(i int, head string) string {
	letter, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		letter = fmt.Sprint(i + 1)
	}
	if head == "" {
		return letter
	}
	return fmt.Sprintf("%s (%s)", letter, head)
}

// readSheets reads the sheets of an .xlsx file, keyed by their lower-case
// names, within the bounds above.
func readSheets(r io.Reader) (sheets map[string]*sheet, err error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("reading the file: %v", err)}
	}
	if len(data) > MaxFileSize {
		return nil, &Error{Err: ErrLimit, Msg: fmt.Sprintf("the file is over %d MiB: an XLSForm is far smaller; is it the right file?", MaxFileSize>>20)}
	}
	// An .xlsx is a zip archive. Saying so plainly beats excelize's
	// "zip: not a valid zip file" for a CSV or an old .xls.
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, &Error{Msg: "the file is not an .xlsx workbook (an XLSForm saved from Excel, LibreOffice or Google Sheets as .xlsx); an old .xls or a .csv must be saved as .xlsx first"}
	}
	if err := checkMarkup(zr); err != nil {
		return nil, err
	}
	// excelize is not written for hostile input: a panic in it is a file
	// it cannot read, not a crash of the command.
	defer func() {
		if p := recover(); p != nil {
			sheets, err = nil, &Error{Msg: fmt.Sprintf("the workbook cannot be read: %v", p)}
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit:    MaxUnzipSize,
		UnzipXMLSizeLimit: MaxUnzipSize, // kept in memory: no temporary files
	})
	if err != nil {
		if strings.Contains(err.Error(), "unzip size") {
			return nil, errUnzipSize
		}
		return nil, &Error{Msg: fmt.Sprintf("the workbook cannot be read: %v", err)}
	}
	defer f.Close()
	sheets = map[string]*sheet{}
	for _, name := range f.GetSheetList() {
		key := strings.ToLower(strings.TrimSpace(name))
		if key != "survey" && key != "choices" && key != "settings" {
			continue // external_choices, notes, a translator's sheet
		}
		if sheets[key] != nil {
			return nil, &Error{Sheet: name, Msg: fmt.Sprintf("the workbook has two sheets named %s", key)}
		}
		s, err := readSheet(f, name)
		if err != nil {
			return nil, err
		}
		sheets[key] = s
	}
	return sheets, nil
}

var errUnzipSize = &Error{Err: ErrLimit, Msg: fmt.Sprintf("the workbook unzips to over %d MiB: an XLSForm is far smaller", MaxUnzipSize>>20)}

// checkMarkup counts the tags and attributes of the workbook's parts before
// excelize reads any: it holds each as a Go value of a hundred bytes or two,
// and 60 MiB of shared strings, of tags one inside another or of attributes
// of one row, a file of 125 KB each, took 1.8 to 2.5 GB. A form of 5,000
// rows has some 300,000. Each tag needs a < and each attribute a =, in UTF-8
// and in every other encoding excelize reads, so the bytes counted bound them.
func checkMarkup(zr *zip.Reader) error {
	var c markupCount
	for _, f := range zr.File {
		part, err := f.Open()
		if err == nil {
			_, err = io.Copy(&c, part)
			part.Close()
		}
		if errors.Is(err, ErrLimit) {
			return &Error{Err: ErrLimit, Msg: fmt.Sprintf("%v (the part %q takes it over)", err, f.Name)}
		}
		if err != nil {
			return &Error{Msg: fmt.Sprintf("the workbook cannot be read: %q: %v", f.Name, err)}
		}
	}
	return nil
}

type markupCount struct{ size, markup int }

func (c *markupCount) Write(p []byte) (int, error) {
	c.size += len(p)
	c.markup += bytes.Count(p, []byte("<")) + bytes.Count(p, []byte("="))
	switch {
	case c.size > MaxUnzipSize:
		return 0, errUnzipSize
	case c.markup > MaxMarkup:
		return 0, &Error{Err: ErrLimit, Msg: fmt.Sprintf("the workbook holds over %d tags and attributes: an XLSForm has far fewer", MaxMarkup)}
	}
	return len(p), nil
}

func readSheet(f *excelize.File, name string) (*sheet, error) {
	rows, err := f.Rows(name)
	if err != nil {
		return nil, &Error{Sheet: name, Msg: fmt.Sprintf("the sheet cannot be read: %v", err)}
	}
	defer rows.Close()
	s := &sheet{name: name}
	n := 0
	for rows.Next() {
		n++
		if n > MaxRows {
			return nil, &Error{Sheet: name, Row: n, Err: ErrLimit, Msg: fmt.Sprintf("more than %d rows: an XLSForm is far shorter", MaxRows)}
		}
		cells, err := rows.Columns()
		if err != nil {
			return nil, &Error{Sheet: name, Row: n, Msg: fmt.Sprintf("the row cannot be read: %v", err)}
		}
		// A row is as long as its last cell that holds anything, a space
		// included: kept, a space in column XFD of every row held 256 KiB
		// of empty cells a row, 1.4 GB for a file of 85 KB.
		if len(cells) > MaxColumns {
			return nil, &Error{Sheet: name, Row: n, Column: columnName(len(cells)-1, ""), Err: ErrLimit, Msg: fmt.Sprintf("a cell past column %d, blank as it may look: an XLSForm has far fewer columns", MaxColumns)}
		}
		empty := true
		for i, c := range cells {
			if strings.TrimSpace(c) == "" {
				continue
			}
			empty = false
			if len(c) > MaxCell {
				return nil, &Error{Sheet: name, Row: n, Column: columnName(i, heading(s, i)), Err: ErrLimit, Msg: fmt.Sprintf("the cell is %d bytes long: at most %d are allowed", len(c), MaxCell)}
			}
			if !utf8.ValidString(c) {
				return nil, &Error{Sheet: name, Row: n, Column: columnName(i, heading(s, i)), Msg: "the cell is not valid text (UTF-8)"}
			}
		}
		if empty {
			continue
		}
		if s.heads == nil {
			s.headerRow = n
			s.col = map[string]int{}
			for i, c := range cells {
				h := strings.TrimSpace(c)
				s.heads = append(s.heads, h)
				key := strings.ToLower(h)
				if key == "" {
					continue
				}
				if _, dup := s.col[key]; dup {
					return nil, &Error{Sheet: name, Row: n, Column: columnName(i, h), Msg: fmt.Sprintf("the heading %q is there twice", h)}
				}
				s.col[key] = i
			}
			continue
		}
		s.rows = append(s.rows, row{n: n, cells: cells})
	}
	if err := rows.Error(); err != nil {
		if errors.Is(err, excelize.ErrMaxRows) {
			return nil, &Error{Sheet: name, Err: ErrLimit, Msg: fmt.Sprintf("more than %d rows: an XLSForm is far shorter", MaxRows)}
		}
		return nil, &Error{Sheet: name, Msg: fmt.Sprintf("the sheet cannot be read: %v", err)}
	}
	return s, nil
}

func heading(s *sheet, i int) string {
	if i < len(s.heads) {
		return s.heads[i]
	}
	return ""
}
