package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"lifeline/node/nodetest"
)

// writeAPICert makes a CA, as a deployment's own would be, and a server
// certificate it signs for 127.0.0.1, and writes the CA's certificate
// and the server's certificate and key as PEM files in dir.
func writeAPICert(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "NEMO test CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "hq api"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("api.pem", "CERTIFICATE", der), write("api.key", "PRIVATE KEY", keyDER)
}

// runAPI starts `lifeline run` with the feature API and returns the URL
// it serves on and the file its standard error goes to.
func runAPI(t *testing.T, dir string, args ...string) (url, log string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"run", "--data", dir}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(t.TempDir(), "stderr.log")
	errf, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = errf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	errf.Close()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logFile)
			t.Logf("== the node's log:\n%s", tail(b, 3000))
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "serving the feature API on "); ok {
				ready <- u
			}
		}
	}()
	select {
	case u := <-ready:
		return u, logFile
	case <-time.After(60 * time.Second):
		t.Fatalf("lifeline run --data %s did not serve the feature API", dir)
	}
	return "", ""
}

// GDAL's ogrinfo against a running HQ node's feature API, as a GIS
// officer's QGIS reads it: the collections listed, a collection's count,
// personal fields only with a token made for them, every record once
// through pages of 7, no answer without a token or with one revoked
// while the node runs; a field laptop does not serve the API.
func TestFeatureAPIWithGDAL(t *testing.T) {
	t.Parallel()
	nodetest.NeedPrograms(t, "install gdal-bin (make deps)", "ogrinfo")
	tmp := t.TempDir()
	hq := filepath.Join(tmp, "hq")
	ok(t, "", "init", "--data", hq, "--role", "hq", "--district", "Belize", "--name", "hq-belmopan")
	const records = 20
	var lines, villages, heads []string
	for i := range records {
		village, head := fmt.Sprintf("village-%02d", i), fmt.Sprintf("Head %02d", i)
		villages, heads = append(villages, village), append(heads, head)
		lines = append(lines, fmt.Sprintf(`{"district":"Cayo","village":%q,"lat":%v,"lon":%v,"structure_type":"concrete block","damage_level":%d,"household_size":4,"head_of_household":%q,"reported_by":"vol-007","reported_at":"2024-11-18T14:05:00Z"}`,
			village, 17.0+float64(i)/100, -89.0+float64(i)/100, i%5, head))
	}
	ndjson := filepath.Join(tmp, "assessments.ndjson")
	os.WriteFile(ndjson, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	ok(t, "", "record", "import", "--data", hq, "--type", "damage-assessment", "--author", "vol-007", ndjson)

	plainFile, personalFile := filepath.Join(tmp, "gis.token"), filepath.Join(tmp, "case.token")
	ok(t, "", "api", "token", "create", "--data", hq, "--name", "gis-office", "--out", plainFile)
	ok(t, "", "api", "token", "create", "--data", hq, "--name", "case-office", "--personal", "--out", personalFile)
	fails(t, "", []string{"exists"}, "api", "token", "create", "--data", hq, "--name", "other", "--out", plainFile)
	var listed []struct {
		Name     string
		Personal bool
	}
	if err := json.Unmarshal([]byte(ok(t, "", "api", "token", "list", "--data", hq, "--json")), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 2 || listed[0].Name != "case-office" || !listed[0].Personal || listed[1].Name != "gis-office" || listed[1].Personal {
		t.Fatalf("token list: %+v", listed)
	}
	read := func(path string) string {
		info, err := os.Stat(path)
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, %v", path, info.Mode(), err)
		}
		b, _ := os.ReadFile(path)
		return strings.TrimSpace(string(b))
	}
	plain, personal := read(plainFile), read(personalFile)

	caFile, certFile, keyFile := writeAPICert(t, tmp)
	fails(t, "", []string{"--api-cert", "--api-key"}, "run", "--data", hq, "--api-addr", "127.0.0.1:0")
	url, logFile := runAPI(t, hq, "--api-addr", "127.0.0.1:0", "--api-cert", certFile, "--api-key", keyFile)
	if list := ok(t, "", "api", "token", "list", "--data", hq); strings.Contains(list, plain) || strings.Contains(list, personal) {
		t.Fatal("token list shows a token")
	}

	// The CA file in both of GDAL's ways: CURL_CA_BUNDLE, which GDAL
	// 3.6 reads, and GDAL_HTTP_CAINFO, from 3.7.
	ogr := func(token string, args ...string) (string, error) {
		cmd := exec.Command("ogrinfo", append([]string{"-ro"}, args...)...)
		cmd.Env = append(os.Environ(), "CURL_CA_BUNDLE="+caFile, "GDAL_HTTP_CAINFO="+caFile, "GDAL_HTTP_TIMEOUT=60", "GDAL_HTTP_MAX_RETRY=0", "CPL_CURL_VERBOSE=NO")
		if token != "" {
			cmd.Env = append(cmd.Env, "GDAL_HTTP_HEADERS=Authorization: Bearer "+token)
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	src := "OAPIF:" + url
	out, err := ogr(plain, src)
	if err != nil || !strings.Contains(out, "damage-assessment (title: Building damage assessment) (Point)") || !strings.Contains(out, "missing-person (title: Missing person)") {
		t.Fatalf("ogrinfo lists: %v\n%s", err, out)
	}
	if out, err = ogr(plain, "-so", src, "damage-assessment"); err != nil || !strings.Contains(out, fmt.Sprintf("Feature Count: %d\n", records)) {
		t.Fatalf("ogrinfo counts: %v\n%s", err, out)
	}
	if out, err = ogr("", src); err == nil || !strings.Contains(out, "401") {
		t.Fatalf("ogrinfo without a token: %v\n%s", err, out)
	}
	// Every record once, through next links, pages of 7.
	values := func(out, field string) []string {
		var vs []string
		for _, m := range regexp.MustCompile(`(?m)^  `+field+` \(String\) = (.*)$`).FindAllStringSubmatch(out, -1) {
			vs = append(vs, m[1])
		}
		slices.Sort(vs)
		return vs
	}
	if out, err = ogr(plain, "-al", "-q", "-oo", "PAGE_SIZE=7", src, "damage-assessment"); err != nil || !slices.Equal(values(out, "village"), villages) {
		t.Fatalf("ogrinfo in pages of 7 read villages %v, want %v: %v\n%s", values(out, "village"), villages, err, out)
	}
	if strings.Contains(out, "head_of_household") || strings.Contains(out, "Head 0") {
		t.Fatalf("a token not made for personal fields reads them:\n%s", out)
	}
	if out, err = ogr(personal, "-al", "-q", src, "damage-assessment"); err != nil || !slices.Equal(values(out, "head_of_household"), heads) {
		t.Fatalf("a personal token reads heads of household %v, want %v: %v\n%s", values(out, "head_of_household"), heads, err, out)
	}
	// Revoked while the node runs: refused from the next request.
	ok(t, "", "api", "token", "revoke", "--data", hq, "--name", "gis-office")
	if out, err = ogr(plain, src); err == nil || !strings.Contains(out, "401") {
		t.Fatalf("ogrinfo with a revoked token: %v\n%s", err, out)
	}
	fails(t, "", []string{"no API token", "gis-office"}, "api", "token", "revoke", "--data", hq, "--name", "gis-office")
	// Made while the node runs: served from the next request.
	lateFile := filepath.Join(tmp, "late.token")
	ok(t, "", "api", "token", "create", "--data", hq, "--name", "late", "--out", lateFile)
	late := read(lateFile)
	if out, err = ogr(late, "-so", src, "damage-assessment"); err != nil || !strings.Contains(out, fmt.Sprintf("Feature Count: %d\n", records)) {
		t.Fatalf("ogrinfo with a token made while the node runs: %v\n%s", err, out)
	}
	// The node's log names the tokens, never shows them.
	log, _ := os.ReadFile(logFile)
	for _, tok := range []string{plain, personal, late} {
		if strings.Contains(string(log), tok) || strings.Contains(string(log), strings.TrimPrefix(tok, "lifeline-api-")) {
			t.Fatal("the node's log shows a token")
		}
	}
	if !strings.Contains(string(log), "token=case-office") || !strings.Contains(string(log), "token=late") {
		t.Fatalf("the node's log does not name the tokens that read:\n%s", tail(log, 2000))
	}

	laptop := newNode(t)
	fails(t, "", []string{"relays and HQ", "field"}, "run", "--data", laptop, "--api-addr", "127.0.0.1:0", "--api-cert", certFile, "--api-key", keyFile)
	fails(t, "", []string{"relays and HQ"}, "api", "token", "create", "--data", laptop, "--name", "x", "--out", filepath.Join(tmp, "x.token"))
}

// The API's key, which others on the relay may read, is refused as run
// starts, saying so: whoever reads it may pose as the API to the
// analysts, and take the tokens they send. Before, the node served with
// it.
func TestAnAPIKeyOthersMayReadIsRefused(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	hq := filepath.Join(tmp, "hq")
	ok(t, "", "init", "--data", hq, "--role", "hq", "--district", "Belize", "--name", "hq-belmopan")
	_, certFile, keyFile := writeAPICert(t, tmp)
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--data", hq, "--api-addr", "127.0.0.1:0", "--api-cert", certFile, "--api-key", keyFile)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	served := false
	for sc := bufio.NewScanner(out); sc.Scan(); {
		if strings.HasPrefix(sc.Text(), "serving the feature API on ") {
			served = true
			cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	err = cmd.Wait()
	if served {
		t.Fatalf("run served the feature API with a key others may read (mode 0644)")
	}
	if err == nil || !strings.Contains(stderr.String(), keyFile) || !strings.Contains(stderr.String(), "chmod 600") {
		t.Fatalf("run with an API key others may read: %v, %q", err, stderr.String())
	}
}
