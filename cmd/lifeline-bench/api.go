package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// A1: the feature API of a `lifeline run --api-addr` HQ node that holds the
// workload's 50,000 damage assessments, read by one client in pages of
// 1,000 through the next links, as GDAL and QGIS read it.
func init() {
	register(workload{name: "A1-feature-api", across: featureAPI})
}

func featureAPI(ctx context.Context, e *env) ([]namedResult, error) {
	dir := filepath.Join(e.tmp, "a1-hq")
	defer os.RemoveAll(dir)
	if _, err := lifeline("init", "--data", dir, "--role", "hq", "--district", "Belize", "--name", "hq"); err != nil {
		return nil, err
	}
	if _, err := lifeline("record", "import", "--data", dir, "--type", "damage-assessment", "--author", "bench", e.damage); err != nil {
		return nil, err
	}
	tokenFile := filepath.Join(e.tmp, "a1.token")
	defer os.Remove(tokenFile)
	if _, err := lifeline("api", "token", "create", "--data", dir, "--name", "bench", "--out", tokenFile); err != nil {
		return nil, err
	}
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		return nil, err
	}
	pool, certFile, keyFile, err := apiCert(e.tmp)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(lifelineBin(), "run", "--data", dir, "--api-addr", "127.0.0.1:0", "--api-cert", certFile, "--api-key", keyFile)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "serving the feature API on "); ok {
				urls <- u
			}
		}
	}()
	var base string
	select {
	case base = <-urls:
	case <-time.After(60 * time.Second):
		return nil, errors.New("lifeline run did not serve the feature API")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Minute}
	bearer := "Bearer " + strings.TrimSpace(string(tok))
	seen := map[string]bool{}
	pages, matched := 0, 0
	start := time.Now()
	for next := base + "/collections/damage-assessment/items?limit=1000"; next != ""; {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", bearer)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		var page struct {
			Features []struct {
				ID string `json:"id"`
			} `json:"features"`
			NumberMatched int `json:"numberMatched"`
			Links         []struct{ Href, Rel string }
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			return nil, fmt.Errorf("page %d: %s, %v", pages+1, resp.Status, err)
		}
		pages++
		matched = page.NumberMatched
		for _, f := range page.Features {
			if seen[f.ID] {
				return nil, fmt.Errorf("page %d gives %s again", pages, f.ID)
			}
			seen[f.ID] = true
		}
		next = ""
		for _, l := range page.Links {
			if l.Rel == "next" {
				next = l.Href
			}
		}
	}
	elapsed := time.Since(start)
	if len(seen) != matched || matched == 0 {
		return nil, fmt.Errorf("read %d features, the API says %d match", len(seen), matched)
	}
	return []namedResult{{name: "A1-feature-api", what: fmt.Sprintf("features read over HTTPS in %d pages of 1,000 (peak RSS: the serving node's)", pages),
		result: result{Records: len(seen), Elapsed: elapsed, RSSKiB: procHWM(cmd.Process.Pid)}}}, nil
}

// apiCert makes a CA and a certificate it signs for 127.0.0.1, writes the
// certificate and key in dir, and returns a pool of the CA.
func apiCert(dir string) (*x509.CertPool, string, string, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", "", err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "benchmark CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, "", "", err
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", "", err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "api"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, "", "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, "", "", err
	}
	certFile, keyFile := filepath.Join(dir, "a1-api.pem"), filepath.Join(dir, "a1-api.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return nil, "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, "", "", err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, certFile, keyFile, nil
}
