package main

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/chacha20"
)

// table lays out rows of cells as text/tabwriter does with padding 2 and
// spaces (each column as wide as its widest cell, the last cell of a line
// as it is), for a list too long to hold in memory: the rows wait in
// memory up to spool bytes, and beyond that in a temporary file, until
// the columns' widths are known. Every row has as many cells, and no cell
// holds a tab or a line break (Printable escapes them).
type table struct {
	spool  int // bytes held in memory before rows go to a file
	widths []int
	mem    bytes.Buffer
	file   *os.File
	buf    *bufio.Writer // to file, through the cipher
	// key and nonce encrypt the file (ChaCha20).
	key, nonce []byte
}

// tableSpool is how many bytes of rows a table holds in memory.
const tableSpool = 1 << 20

const tablePadding = 2

func newTable() *table { return &table{spool: tableSpool} }

// row adds a line of cells.
func (t *table) row(cells ...string) error {
	for i, c := range cells[:len(cells)-1] {
		if i == len(t.widths) {
			t.widths = append(t.widths, 0)
		}
		t.widths[i] = max(t.widths[i], utf8.RuneCountInString(c))
	}
	line := strings.Join(cells, "\t") + "\n"
	if t.file == nil && t.mem.Len()+len(line) > t.spool {
		f, err := os.CreateTemp("", "lifeline-list-*")
		if err != nil {
			return err
		}
		// Rows name people (a missing person's summary is her name): the
		// file has no name on disk from now on, so a command killed leaves
		// none behind, and what reaches the disk is encrypted with a key
		// this process alone ever holds.
		os.Remove(f.Name())
		t.key, t.nonce = make([]byte, chacha20.KeySize), make([]byte, chacha20.NonceSize)
		if _, err := rand.Read(t.key); err != nil {
			return err
		}
		if _, err := rand.Read(t.nonce); err != nil {
			return err
		}
		enc, err := chacha20.NewUnauthenticatedCipher(t.key, t.nonce)
		if err != nil {
			return err
		}
		t.file, t.buf = f, bufio.NewWriter(cipher.StreamWriter{S: enc, W: f})
		if _, err := t.mem.WriteTo(t.buf); err != nil {
			return err
		}
	}
	if t.file != nil {
		_, err := t.buf.WriteString(line)
		return err
	}
	t.mem.WriteString(line)
	return nil
}

// writeTo writes the rows laid out, and lets go of them.
func (t *table) writeTo(w io.Writer) error {
	r := io.Reader(&t.mem)
	if t.file != nil {
		if err := t.buf.Flush(); err != nil {
			return err
		}
		if _, err := t.file.Seek(0, io.SeekStart); err != nil {
			return err
		}
		dec, err := chacha20.NewUnauthenticatedCipher(t.key, t.nonce)
		if err != nil {
			return err
		}
		r = cipher.StreamReader{S: dec, R: t.file}
	}
	in := bufio.NewReader(r)
	out := bufio.NewWriter(w)
	for {
		line, err := in.ReadString('\n')
		if errors.Is(err, io.EOF) && line == "" {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		cells := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		for i, c := range cells[:len(cells)-1] {
			out.WriteString(c)
			out.WriteString(strings.Repeat(" ", t.widths[i]+tablePadding-utf8.RuneCountInString(c)))
		}
		out.WriteString(cells[len(cells)-1])
		out.WriteByte('\n')
	}
	return out.Flush()
}

// close removes the table's file, if it has one.
func (t *table) close() {
	if t.file != nil {
		t.file.Close()
	}
}
