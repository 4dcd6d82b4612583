package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"

	"lifeline/node"
)

// A passphrase comes, for every command that needs one, from the first
// line of a file named by a flag, else an environment variable, else the
// terminal, typed without echo (twice for a new one). The node's key and
// the CA's key each have their own flag and variable, so that one never
// stands for the other:
//
//	the node's key  --passphrase-file FILE         $LIFELINE_PASSPHRASE
//	a person        --person-passphrase-file FILE  $LIFELINE_PERSON_PASSPHRASE
//	the CA's key    --ca-passphrase-file FILE      $LIFELINE_CA_PASSPHRASE
//
// A relay or HQ that runs unattended is given a file only its service user
// may read, or a service manager's credential handed over as such a file.

// secret says where one kind of passphrase comes from.
type secret struct {
	flag, env string
	// asked is the terminal's prompt, fresh its prompt for a new one.
	asked, fresh string
	// missing is the error when none is given and there is no terminal.
	missing error
}

var (
	nodeSecret = secret{
		flag: "passphrase-file", env: "LIFELINE_PASSPHRASE",
		asked: "Passphrase of the node's key: ",
		fresh: "New passphrase for the node's key (12 characters or more; a few words will do): ",
		missing: fmt.Errorf("%w: give it with --passphrase-file FILE or $LIFELINE_PASSPHRASE, or run the command on a terminal",
			node.ErrKeySealed),
	}
	newNodeSecret = secret{
		flag: "new-passphrase-file", env: "LIFELINE_NEW_PASSPHRASE",
		fresh:   "New passphrase for the node's key (12 characters or more; a few words will do): ",
		missing: errors.New("the new passphrase of the node's key: give it with --new-passphrase-file FILE or $LIFELINE_NEW_PASSPHRASE, or run the command on a terminal"),
	}
	personSecret = secret{
		flag: "person-passphrase-file", env: "LIFELINE_PERSON_PASSPHRASE",
		asked:   "Your passphrase: ",
		fresh:   "The person's passphrase (12 characters or more; a few words will do): ",
		missing: errors.New("the person's passphrase: give it with --person-passphrase-file FILE or $LIFELINE_PERSON_PASSPHRASE, or run the command on a terminal"),
	}
	caSecret = secret{
		flag: "ca-passphrase-file", env: "LIFELINE_CA_PASSPHRASE",
		asked:   "Passphrase of the CA: ",
		fresh:   "New passphrase for the CA (12 characters or more; a few words will do): ",
		missing: errors.New("the CA's key is sealed with a passphrase: give it with --ca-passphrase-file FILE or $LIFELINE_CA_PASSPHRASE, or run the command on a terminal"),
	}
)

// caPassphraseFlag is --ca-passphrase-file, taken by every command that
// makes, seals or signs with the CA's key.
func caPassphraseFlag(fs *flagSet) *string {
	return fs.String(caSecret.flag, "", "a file whose first line is the CA's passphrase (default $LIFELINE_CA_PASSPHRASE, else it is asked on the terminal)")
}

// caPassphrase gives the CA's passphrase, when the command needs it; a new
// one (fresh) is typed twice on a terminal.
func caPassphrase(e *env, file string, fresh bool) func() ([]byte, error) {
	return caSecret.ask(e, func() string { return file }, fresh)
}

// nodePassphrase gives the passphrase of the node's key, asked once
// however many times the command opens the node, and only if its key is
// sealed; fresh for a new one (init --seal, key seal), typed twice on a
// terminal. file is read when it is asked: flags are parsed by then.
func nodePassphrase(e *env, file *string, fresh bool) func() ([]byte, error) {
	return sync.OnceValues(nodeSecret.ask(e, func() string { return *file }, fresh))
}

// ask gives the passphrase from the file file names, the environment or
// the terminal.
func (s secret) ask(e *env, file func() string, fresh bool) func() ([]byte, error) {
	return func() ([]byte, error) {
		switch {
		case file() != "":
			return readPassphraseFile(file())
		case e.getenv(s.env) != "":
			return []byte(e.getenv(s.env)), nil
		}
		f, ok := e.stdin.(interface{ Fd() uintptr })
		if !ok || !e.isTerminal(e.stdin) {
			return nil, s.missing
		}
		prompt := s.asked
		if fresh {
			prompt = s.fresh
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
