package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// passphraseFlag is --passphrase-file, taken by every command that makes,
// seals or signs with the CA's key.
func passphraseFlag(fs *flagSet) *string {
	return fs.String("passphrase-file", "", "a file whose first line is the CA's passphrase (default $LIFELINE_CA_PASSPHRASE, else it is asked on the terminal)")
}

// caPassphrase gives the CA's passphrase, when the command needs it, from
// one place: the first line of file, else $LIFELINE_CA_PASSPHRASE, else
// typed on the terminal without echo. A new passphrase (fresh) is typed
// twice there. Nothing else reads it, so every command asks the same way.
func caPassphrase(e *env, file string, fresh bool) func() ([]byte, error) {
	return func() ([]byte, error) {
		switch {
		case file != "":
			return readPassphraseFile(file)
		case e.getenv("LIFELINE_CA_PASSPHRASE") != "":
			return []byte(e.getenv("LIFELINE_CA_PASSPHRASE")), nil
		}
		f, ok := e.stdin.(interface{ Fd() uintptr })
		if !ok || !e.isTerminal(e.stdin) {
			return nil, errors.New("the CA's key is sealed with a passphrase: give it with --passphrase-file FILE or $LIFELINE_CA_PASSPHRASE, or run the command on a terminal")
		}
		prompt := "Passphrase of the CA: "
		if fresh {
			prompt = "New passphrase for the CA (12 characters or more; a few words will do): "
		}
		p, err := readPassword(e, int(f.Fd()), prompt)
		if err != nil || !fresh {
			return p, err
		}
		again, err := readPassword(e, int(f.Fd()), "The same passphrase again: ")
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(p, again) {
			return nil, errors.New("the two passphrases typed differ; nothing was done")
		}
		return p, nil
	}
}

func readPassword(e *env, fd int, prompt string) ([]byte, error) {
	fmt.Fprint(e.stderr, prompt)
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(e.stderr)
	if err != nil {
		return nil, fmt.Errorf("reading the passphrase: %v", err)
	}
	return p, nil
}

// readPassphraseFile reads a passphrase file's first line, without its end
// of line.
func readPassphraseFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("the passphrase file: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 4<<10))
	if err != nil {
		return nil, fmt.Errorf("the passphrase file %s: %v", path, err)
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) == 0 {
		return nil, fmt.Errorf("the passphrase file %s: its first line is empty", path)
	}
	return line, nil
}
