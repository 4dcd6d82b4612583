package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode"

	"lifeline/node/atomicfile"
	"lifeline/syncproto"
)

// CAKeyFile is the CA's private key in a CA folder, sealed with a
// passphrase (Seal, PEM type "LIFELINE SEALED CA KEY"). Beside it is the
// CA's certificate, CAFile, the same file every enrolled node holds.
const CAKeyFile = "ca.key"

// pemSealedCAKey is the PEM type of a sealed CA key; pemPlainKey that of
// the unsealed PKCS #8 key CA folders held before keys were sealed.
const (
	pemSealedCAKey = "LIFELINE SEALED CA KEY"
	pemPlainKey    = "PRIVATE KEY"
)

// Validity periods. A CA outlives many node certificates so that re-enrolling
// a node never needs a new CA. A node certificate lasts a season: a stolen
// laptop that nobody revoked stops syncing when its certificate ends, and a
// node renews through the same request and sign path (lifeline enroll
// request, ca sign, enroll install).
const (
	// CAValidity is how long a CA from NewCA is valid: 20 years.
	CAValidity = 20 * 365 * 24 * time.Hour
	// FieldValidity is how long a field laptop's certificate from Sign is
	// valid when no validity is given: about four months, a hurricane
	// season.
	FieldValidity = 120 * 24 * time.Hour
	// DefaultValidity is how long a relay's or HQ's certificate from Sign
	// is valid when no validity is given: a year.
	DefaultValidity = 365 * 24 * time.Hour
	// RenewBefore is how long before its certificate ends a node says it
	// should renew.
	RenewBefore = 14 * 24 * time.Hour
	// ClockSlack backdates the start of certificates Sign and NewCA make,
	// so that a computer whose clock is somewhat behind headquarters' can
	// use a certificate at once.
	ClockSlack = time.Hour
)

// CA is headquarters' certificate authority: an Ed25519 key and a self-signed
// certificate. Every node trusts exactly this certificate (its CAFile), so a
// node's claims count only if this CA signed them. The key is kept sealed
// with a passphrase, in a CA folder that may live on removable media;
// losing it means re-enrolling every node under a new CA.
type CA struct {
	// Cert is the CA's self-signed certificate, what nodes trust.
	Cert *x509.Certificate
	key  ed25519.PrivateKey
	// plain says the key was read unsealed, from a folder written before
	// keys were sealed.
	plain bool
}

// NewCA makes a CA with a fresh key and a self-signed certificate valid for
// 20 years, whose common name is name (e.g. "NEMO Lifeline CA 2025") and
// organization Organization. It can sign node certificates only, not other CAs.
func NewCA(name string) (*CA, error) {
	return NewCAAt(name, time.Now().Add(-ClockSlack))
}

// NewCAAt is NewCA with its certificate valid from notBefore. Tests use it
// to make a deployment that began months ago.
func NewCAAt(name string, notBefore time.Time) (*CA, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > MaxNameLen || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return nil, fmt.Errorf("new CA: name %q: 1 to %d printable characters, e.g. NEMO Lifeline CA 2025", name, MaxNameLen)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("new CA: generate key: %v", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, fmt.Errorf("new CA: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{Organization}},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(ClockSlack + CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		return nil, fmt.Errorf("new CA: self-sign: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("new CA: self-sign: %v", err)
	}
	return &CA{Cert: cert, key: priv}, nil
}

// Save writes the CA into dir, creating dir (mode 0700) if need be:
// dir/ca.key, the private key sealed with passphrase (Seal, DefaultKDF),
// readable by the owner only, and dir/ca.crt, the certificate as PEM. The
// passphrase must pass CheckPassphrase. Save refuses to overwrite either
// file: replacing a CA's key silently disowns every node it enrolled.
func (ca *CA) Save(dir string, passphrase []byte) error {
	return ca.save(dir, passphrase, DefaultKDF())
}

// save is Save with the Argon2id parameters given: tests use cheap ones.
func (ca *CA) save(dir string, passphrase []byte, kdf KDF) error {
	if ca == nil || ca.key == nil {
		return errors.New("save CA: no private key (only a CA from NewCA or LoadCA can be saved)")
	}
	keyPath, certPath := filepath.Join(dir, CAKeyFile), filepath.Join(dir, CAFile)
	for _, p := range []string{keyPath, certPath} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("save CA: %s already exists; a CA is made once: load it with LoadCA, or save the new one in another folder", p)
		}
	}
	sealedKey, err := ca.sealKey(passphrase, kdf)
	if err != nil {
		return fmt.Errorf("save CA: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save CA: %v", err)
	}
	if err := writeNew(keyPath, sealedKey, 0o600); err != nil {
		return fmt.Errorf("save CA: %v", err)
	}
	if err := writeNew(certPath, pemCert(ca.Cert), 0o644); err != nil {
		os.Remove(keyPath) // leave nothing half-saved, so that Save can be run again
		return fmt.Errorf("save CA: %v", err)
	}
	syncDir(dir)
	return nil
}

// sealKey is the CA's key as CAKeyFile holds it: PKCS #8, sealed.
func (ca *CA) sealKey(passphrase []byte, kdf KDF) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(ca.key)
	if err != nil {
		return nil, fmt.Errorf("encode key: %v", err)
	}
	return seal(rand.Reader, kdf, pemSealedCAKey, der, passphrase)
}

// Sealed says whether the CA's key was read sealed. A CA folder written
// before keys were sealed holds it in the clear; SealCA seals it in place.
func (ca *CA) Sealed() bool { return !ca.plain }

// ErrSealedAlready is wrapped by SealCA's error when it is given a folder whose
// key is sealed already.
var ErrSealedAlready = errors.New("the CA key is sealed already")

// SealCA seals, in place, the key of a CA folder written before keys were
// sealed: ca.key is replaced, whole or not at all, by the same key sealed
// with passphrase. The error wraps ErrSealedAlready when there is nothing
// to do. The old file's blocks may remain on the disk until overwritten.
func SealCA(dir string, passphrase []byte) error {
	ca, err := LoadCA(dir, nil)
	if errors.Is(err, ErrNeedsPassphrase) {
		return fmt.Errorf("seal CA: %s: %w", filepath.Join(dir, CAKeyFile), ErrSealedAlready)
	}
	if err != nil {
		return fmt.Errorf("seal CA: %w", err)
	}
	sealedKey, err := ca.sealKey(passphrase, DefaultKDF())
	if err != nil {
		return fmt.Errorf("seal CA: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, CAKeyFile), sealedKey, 0o600); err != nil {
		return fmt.Errorf("seal CA: %v", err)
	}
	return nil
}

// writeNew writes data to a file that must not exist yet and syncs it.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %v", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %v", path, err)
	}
	return nil
}

// ErrNeedsPassphrase is wrapped by LoadCA's error for a sealed key when no
// Passphrase is given.
var ErrNeedsPassphrase = errors.New("the CA key is sealed and no passphrase was given")

// LoadCA reads a CA written by Save from dir, asking passphrase for the
// key's passphrase. A key written before keys were sealed is read without
// it (Sealed says so). Its errors name the file and say what is wrong with
// it; a wrong passphrase wraps ErrPassphrase.
func LoadCA(dir string, passphrase Passphrase) (*CA, error) {
	keyPath, certPath := filepath.Join(dir, CAKeyFile), filepath.Join(dir, CAFile)
	data, err := readBounded(keyPath, "the CA's private key")
	if err != nil {
		return nil, fmt.Errorf("load CA: %w", err)
	}
	// Everything that costs nothing is checked before the passphrase is
	// asked for and Argon2id runs.
	plain := IsSealed(data, pemPlainKey)
	var der []byte
	if plain {
		if der, err = readPEM(keyPath, data, pemPlainKey, "the CA's private key"); err != nil {
			return nil, fmt.Errorf("load CA: %w", err)
		}
	} else if _, err := parseSealed(data, pemSealedCAKey); err != nil {
		return nil, fmt.Errorf("load CA: %s should hold the CA's private key, sealed: %v", keyPath, err)
	}
	cert, err := readCertFile(certPath, "the CA's certificate")
	if err != nil {
		return nil, fmt.Errorf("load CA: %w", err)
	}
	if !cert.IsCA || !cert.BasicConstraintsValid {
		return nil, fmt.Errorf("load CA: %s is not a CA certificate (is it a node's certificate?)", certPath)
	}
	if !plain {
		if der, err = unsealFile(keyPath, data, pemSealedCAKey, "the CA's private key", passphrase); err != nil {
			return nil, fmt.Errorf("load CA: %w", err)
		}
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("load CA: %s: not a PKCS #8 private key: %v", keyPath, err)
	}
	key, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("load CA: %s holds a %T, not an Ed25519 key", keyPath, parsed)
	}
	if pub, ok := cert.PublicKey.(ed25519.PublicKey); !ok || !pub.Equal(key.Public()) {
		return nil, fmt.Errorf("load CA: %s is not the certificate of the key in %s: the two files come from different CAs", certPath, keyPath)
	}
	return &CA{Cert: cert, key: key, plain: plain}, nil
}

// LoadCACert reads the certificate of the CA in dir, without its key.
func LoadCACert(dir string) (*x509.Certificate, error) {
	return readCertFile(filepath.Join(dir, CAFile), "the CA's certificate")
}

// UnsealFile reads the file at path, which holds what of blockType sealed
// with Seal, and opens it with the passphrase asked of passphrase.
func UnsealFile(path, blockType, what string, passphrase Passphrase) ([]byte, error) {
	data, err := readBounded(path, what)
	if err != nil {
		return nil, err
	}
	return unsealFile(path, data, blockType, what, passphrase)
}

func unsealFile(path string, data []byte, blockType, what string, passphrase Passphrase) ([]byte, error) {
	if _, err := parseSealed(data, blockType); err != nil {
		return nil, fmt.Errorf("%s should hold %s, sealed: %v", path, what, err)
	}
	if passphrase == nil {
		return nil, fmt.Errorf("%s: %w", path, ErrNeedsPassphrase)
	}
	p, err := passphrase()
	if err != nil {
		return nil, err
	}
	plain, err := Unseal(data, blockType, p)
	if err != nil {
		return nil, fmt.Errorf("the passphrase does not open %s: %w", path, err)
	}
	return plain, nil
}

// readPEMFile reads a file that must hold exactly one PEM block of type typ,
// describing it as what in errors, and returns the block's bytes.
func readPEMFile(path, typ, what string) ([]byte, error) {
	data, err := readBounded(path, what)
	if err != nil {
		return nil, err
	}
	return readPEM(path, data, typ, what)
}

// readPEM is readPEMFile for the bytes read from path.
func readPEM(path string, data []byte, typ, what string) ([]byte, error) {
	block, rest := pem.Decode(data)
	if block == nil || block.Type != typ {
		return nil, fmt.Errorf("%s should hold %s but has no PEM %q block: it is damaged or another file", path, what, typ)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%s should hold %s alone but has more after it", path, what)
	}
	return block.Bytes, nil
}

// readCertFile reads a file holding exactly one PEM certificate.
func readCertFile(path, what string) (*x509.Certificate, error) {
	der, err := readPEMFile(path, pemCertificate, what)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%s should hold %s but it does not parse: %v", path, what, err)
	}
	return cert, nil
}

// ReadPEMFile reads a file that should hold what (an enrollment request
// or bundle, a certificate), refusing one larger than any such file is
// without reading it whole: a file picked by mistake, a video on the same
// stick, says so instead of filling the memory.
func ReadPEMFile(path, what string) ([]byte, error) { return readBounded(path, what) }

// readBounded reads a small file, refusing one larger than maxPEMInput,
// and one that is no regular file: opening a pipe waits for a writer,
// and a stick may hold one under a bundle's name.
func readBounded(path, what string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s, %s, does not exist: check the folder", path, what)
	}
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %v", path, what, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %v", path, what, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s should hold %s but is not a file: a pipe, a device or a folder", path, what)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPEMInput+1))
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %v", path, what, err)
	}
	if len(data) > maxPEMInput {
		return nil, fmt.Errorf("%s should hold %s but is larger than %d KiB: it is another file", path, what, maxPEMInput>>10)
	}
	return data, nil
}

// Pool is a certificate pool holding only the CA's certificate.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Sign issues a node certificate for an enrollment request made by
// Key.Request, valid from ClockSlack ago for validity (when 0, ValidityFor
// the role the request claims). It returns the enrollment bundle, PEM: the
// node's certificate then the CA's, which the node passes to Install.
//
// The certificate carries only what ParseRequest checked (the claims and the
// key); anything else in the request is ignored. Whoever runs Sign decides
// that the request really comes from the node it names: the request proves
// possession of the key, not who holds it.
func (ca *CA) Sign(pemRequest []byte, validity time.Duration) ([]byte, error) {
	if validity == 0 {
		claims, _, err := ParseRequest(pemRequest)
		if err != nil {
			return nil, fmt.Errorf("sign: %w", err)
		}
		validity = ValidityFor(claims.Role)
	}
	if validity < 0 {
		return nil, fmt.Errorf("sign: validity %v is negative", validity)
	}
	now := time.Now()
	return ca.SignAt(pemRequest, now.Add(-ClockSlack), now.Add(validity))
}

// ValidityFor is how long a certificate of a role lasts by default.
func ValidityFor(r syncproto.Role) time.Duration {
	if r.Field() {
		return FieldValidity
	}
	return DefaultValidity
}

// SignAt is Sign with the validity period given: from notBefore to notAfter.
// Tests use it to make certificates that have expired or are not valid yet.
// notAfter may not be after the CA certificate's own expiry.
func (ca *CA) SignAt(pemRequest []byte, notBefore, notAfter time.Time) ([]byte, error) {
	if ca == nil || ca.key == nil || ca.Cert == nil {
		return nil, errors.New("sign: the CA has no private key; load it with LoadCA")
	}
	c, pub, err := ParseRequest(pemRequest)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	if !notAfter.After(notBefore) {
		return nil, fmt.Errorf("sign: validity ends (%s) before it starts (%s)", fmtTime(notAfter), fmtTime(notBefore))
	}
	if notAfter.After(ca.Cert.NotAfter) {
		return nil, fmt.Errorf("sign: the certificate would be valid until %s, after the CA itself expires on %s; give a shorter validity, or make a new CA and re-enroll every node", fmtTime(notAfter), fmtTime(ca.Cert.NotAfter))
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, fmt.Errorf("sign: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject(c),
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{claimsURI(c)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.key)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %v", c, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %v", c, err)
	}
	if got, err := ClaimsOf(cert); err != nil || got != c {
		return nil, fmt.Errorf("sign %s: the certificate made does not carry the claims (%v); this is a bug", c, err)
	}
	var b bytes.Buffer
	pem.Encode(&b, &pem.Block{Type: pemCertificate, Bytes: der})
	pem.Encode(&b, &pem.Block{Type: pemCertificate, Bytes: ca.Cert.Raw})
	return b.Bytes(), nil
}

// randomSerial is a random positive 128-bit certificate serial number.
func randomSerial() (*big.Int, error) {
	var b [16]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("serial number: %v", err)
		}
		if n := new(big.Int).SetBytes(b[:]); n.Sign() > 0 {
			return n, nil
		}
	}
}

// fmtTime writes a time in errors: UTC, to the minute.
func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
