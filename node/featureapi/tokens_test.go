package featureapi

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A token is kept only as its SHA-256, in a file its owner alone reads;
// a name is made once; a token whose holder could not be given it is not
// kept.
func TestTokensKeptAsHashes(t *testing.T) {
	dir := t.TempDir()
	var tok string
	if err := CreateToken(dir, "qgis-gis-office", true, func(s string) error { tok = s; return nil }); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, tokenPrefix) || len(tok) != len(tokenPrefix)+43 {
		t.Fatalf("token %q: not the prefix and 256 bits in base64url", tok)
	}
	data, err := os.ReadFile(filepath.Join(dir, TokensFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), tok) || strings.Contains(string(data), strings.TrimPrefix(tok, tokenPrefix)) {
		t.Fatal("the tokens file holds the token")
	}
	sum := sha256.Sum256([]byte(tok))
	list, err := ListTokens(dir)
	if err != nil || len(list) != 1 || list[0].Name != "qgis-gis-office" || !list[0].Personal || list[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("%+v %v", list, err)
	}
	if got, ok := checkToken(list, tok); !ok || got.Name != "qgis-gis-office" {
		t.Fatal("the token is not found by its hash")
	}
	if err := CreateToken(dir, "qgis-gis-office", false, func(string) error { return nil }); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("a second token of one name: %v", err)
	}
	for _, bad := range []string{"", "a b", "x/../y", strings.Repeat("a", 65), "naïve"} {
		if err := CreateToken(dir, bad, false, func(string) error { return nil }); err == nil {
			t.Fatalf("name %q accepted", bad)
		}
	}
	failed := errors.New("disk full")
	if err := CreateToken(dir, "excel", false, func(string) error { return failed }); !errors.Is(err, failed) {
		t.Fatalf("keep failed: %v", err)
	}
	if list, _ := ListTokens(dir); len(list) != 1 {
		t.Fatalf("a token no one holds is kept: %+v", list)
	}
	if err := RevokeToken(dir, "excel"); !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("revoking no such token: %v", err)
	}
	if err := RevokeToken(dir, "qgis-gis-office"); err != nil {
		t.Fatal(err)
	}
	if list, _ := ListTokens(dir); len(list) != 0 {
		t.Fatalf("revoked, still listed: %+v", list)
	}
	// A damaged tokens file is refused, not read as no tokens.
	os.WriteFile(filepath.Join(dir, TokensFile), []byte(`[{"name":"x","sha256":"zz"}]`), 0o600)
	if _, err := ListTokens(dir); err == nil || !strings.Contains(err.Error(), TokensFile) {
		t.Fatalf("a damaged tokens file: %v", err)
	}
}

// A token revoked while another command makes a token stays revoked, or
// its revocation says it failed: the two do not each write the tokens
// file as they read it, the second bringing back what the first took out.
func TestARevocationIsNotUndoneByATokenMadeMeanwhile(t *testing.T) {
	dir := t.TempDir()
	var leaked string
	if err := CreateToken(dir, "leaked", true, func(s string) error { leaked = s; return nil }); err != nil {
		t.Fatal(err)
	}
	var revoked error
	if err := CreateToken(dir, "excel", false, func(string) error {
		revoked = RevokeToken(dir, "leaked") // another command, meanwhile
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	list, err := ListTokens(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := checkToken(list, leaked); ok && revoked == nil {
		t.Fatal("the token was revoked, said so, and is held again")
	}
	if revoked != nil && !strings.Contains(revoked.Error(), "another command") {
		t.Errorf("the revocation refused: %v", revoked)
	}
	// Once the other command is done, the revocation goes through.
	if revoked != nil {
		if err := RevokeToken(dir, "leaked"); err != nil {
			t.Fatal(err)
		}
	}
	if list, _ := ListTokens(dir); len(list) != 1 || list[0].Name != "excel" {
		t.Fatalf("tokens %+v, want excel alone", list)
	}
}

// The lock on the tokens is let go when the command holding it ends, even
// killed: a command that ran and died before leaves nothing that refuses
// the next.
func TestATokenCommandKilledLeavesNoLock(t *testing.T) {
	dir := t.TempDir()
	if os.Getenv("LIFELINE_TOKENS_DIR") != "" {
		// The command killed while it holds the lock.
		if _, err := lockTokens(os.Getenv("LIFELINE_TOKENS_DIR")); err != nil {
			os.Exit(2)
		}
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestATokenCommandKilledLeavesNoLock$")
	cmd.Env = append(os.Environ(), "LIFELINE_TOKENS_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "locked\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the command holding the lock said %q", line)
	}
	// While it runs, another command is refused, saying why.
	err = CreateToken(dir, "excel", false, func(string) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "another command") {
		t.Errorf("a token made while another command holds the lock: %v", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if err := CreateToken(dir, "excel", false, func(string) error { return nil }); err != nil {
		t.Fatalf("a token made after the command holding the lock was killed: %v", err)
	}
}
