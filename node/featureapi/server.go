// Package featureapi serves a node's records, read-only, as OGC API -
// Features (Part 1: Core, GeoJSON, OpenAPI 3.0) over HTTPS, for GIS
// software (QGIS, ArcGIS, GDAL) and, as CSV, for spreadsheets. Each
// request carries a token made with CreateToken; only tokens made to read
// personal fields see them, and only those the node can open.
package featureapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"lifeline/node"
	"lifeline/schemas"
)

// Bounds of the server: whoever reaches the port may connect. One
// address holds a quarter of the connections at most, so that a device
// holding connections open without a token leaves places to others; one
// token half the requests served, so that a client reading its answers
// slowly leaves places to others.
const (
	maxConns        = 64
	maxConnsPerAddr = 16
	maxConcurrent   = 8 // requests served at once; others wait
	maxPerToken     = maxConcurrent / 2
	maxPathLen      = 512
	maxHeaderBytes  = 16 << 10
	waitForTurn     = 10 * time.Second
)

// BelizeBBox is the extent every collection gives: Belize, longitude and
// latitude in WGS 84, with its cays.
var BelizeBBox = [4]float64{-89.25, 15.85, -87.45, 18.5}

// Server answers the API's requests from a node.
type Server struct {
	node    *node.Node
	dataDir string
	log     *slog.Logger
	turns   chan struct{}
	// untokened logs what requests without a good token make it log.
	untokened *untokened

	mu         sync.Mutex
	tokenTurns map[string]chan struct{} // by the name of each token served since the start
}

// New is a server of the node's records; it reads the tokens in the
// node's data folder on each request, so that a token made or revoked
// while it runs counts at once. log, if not nil, gets a line per request:
// its path, status and token name, never the token or the query; of the
// requests without a good token, ten lines a second at most.
func New(n *node.Node, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{node: n, dataDir: n.Config().DataDir, log: log, turns: make(chan struct{}, maxConcurrent), untokened: &untokened{Log: log, Lines: untokenedLines, Msg: msgUntokened}, tokenTurns: map[string]chan struct{}{}}
}

// Serve serves HTTPS on ln with the certificate until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener, cert tls.Certificate) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    maxHeaderBytes,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ErrorLog:          slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(shut)
		case <-done:
		}
	}()
	err := srv.ServeTLS(&limitListener{Listener: ln, slots: make(chan struct{}, maxConns), held: map[string]int{}}, "", "")
	close(done)
	s.untokened.Stop()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// limitListener holds at most cap(slots) connections open at once, and
// maxConnsPerAddr of one remote address: an address's next connection is
// closed as it is accepted.
type limitListener struct {
	net.Listener
	slots chan struct{}
	mu    sync.Mutex
	held  map[string]int // by remote IP address
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		l.slots <- struct{}{}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.slots
			return nil, err
		}
		addr := c.RemoteAddr().String()
		if host, _, err := net.SplitHostPort(addr); err == nil {
			addr = host
		}
		l.mu.Lock()
		full := l.held[addr] >= maxConnsPerAddr
		if !full {
			l.held[addr]++
		}
		l.mu.Unlock()
		if full {
			c.Close()
			<-l.slots
			continue
		}
		return &limitConn{Conn: c, free: func() { l.free(addr) }}, nil
	}
}

func (l *limitListener) free(addr string) {
	l.mu.Lock()
	if l.held[addr]--; l.held[addr] == 0 {
		delete(l.held, addr)
	}
	l.mu.Unlock()
	<-l.slots
}

type limitConn struct {
	net.Conn
	once sync.Once
	free func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.free)
	return err
}

// apiError is a refusal as OGC API exception JSON.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func refuse(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// ServeHTTP answers one request, after checking its token.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status := http.StatusOK
	name, known := "-", false
	defer func() {
		args := []any{"path", node.Printable(cut(r.URL.Path, 200)), "status", status, "token", name}
		if !known {
			s.untokened.LogAt(slog.LevelInfo, "feature API request", args...)
			return
		}
		s.log.Info("feature API request", args...)
	}()
	fail := func(e *apiError) {
		status = e.status
		if e.status == http.StatusUnauthorized {
			// Nor is the connection kept for another try: connections
			// are few.
			w.Header().Set("WWW-Authenticate", `Bearer realm="lifeline"`)
			w.Header().Set("Connection", "close")
		}
		if e.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", "GET, HEAD")
		}
		writeJSON(w, e.status, map[string]string{"code": e.code, "description": e.msg})
	}
	tok, err := s.authorize(r)
	if err != nil {
		fail(err)
		return
	}
	name, known = tok.Name, true
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		fail(refuse(http.StatusMethodNotAllowed, "MethodNotAllowed", "%s is not served: this API is read-only (GET)", node.Printable(cut(r.Method, 20))))
		return
	}
	release, ok := s.turn(r.Context(), tok.Name)
	if !ok {
		if r.Context().Err() == nil {
			fail(refuse(http.StatusServiceUnavailable, "ServiceUnavailable", "the server is busy with other requests: try again shortly"))
		}
		return
	}
	defer release()
	if e := s.route(w, r, tok); e != nil {
		fail(e)
	}
}

// turn waits for one of the token's places and one of the server's, and
// gives what frees them; not ok when the wait ran out or the client
// left. A request holds its places until its answer is written: a
// client that reads slowly, or not at all, holds them until the write
// timeout, and one token may hold no more than half.
func (s *Server) turn(ctx context.Context, token string) (release func(), ok bool) {
	s.mu.Lock()
	own := s.tokenTurns[token]
	if own == nil {
		own = make(chan struct{}, maxPerToken)
		s.tokenTurns[token] = own
	}
	s.mu.Unlock()
	var held []chan struct{}
	release = func() {
		for _, c := range held {
			<-c
		}
	}
	wait := time.NewTimer(waitForTurn)
	defer wait.Stop()
	for _, c := range []chan struct{}{own, s.turns} {
		select {
		case c <- struct{}{}:
			held = append(held, c)
		case <-wait.C:
			release()
			return nil, false
		case <-ctx.Done():
			release()
			return nil, false
		}
	}
	return release, true
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// authorize finds the request's token among those held now.
func (s *Server) authorize(r *http.Request) (Token, *apiError) {
	h := r.Header.Get("Authorization")
	scheme, presented, _ := strings.Cut(h, " ")
	if h == "" || !strings.EqualFold(scheme, "Bearer") {
		return Token{}, refuse(http.StatusUnauthorized, "Unauthorized", "this API needs a token: send the header Authorization: Bearer TOKEN (lifeline api token create makes one)")
	}
	list, err := ListTokens(s.dataDir)
	if err != nil {
		s.untokened.LogAt(slog.LevelError, "feature API: reading the tokens", "err", err)
		return Token{}, refuse(http.StatusInternalServerError, "ServerError", "the server cannot read its tokens")
	}
	tok, ok := checkToken(list, strings.TrimSpace(presented))
	if !ok {
		return Token{}, refuse(http.StatusUnauthorized, "Unauthorized", "the token is not one this node holds (revoked, or mistyped)")
	}
	return tok, nil
}

// route answers by path: /, /conformance, /api, /collections,
// /collections/{id}, /collections/{id}/items and
// /collections/{id}/items/{featureId}. Nothing else, and no path that is
// not exactly one of these.
func (s *Server) route(w http.ResponseWriter, r *http.Request, tok Token) *apiError {
	path := r.URL.EscapedPath()
	if len(path) > maxPathLen {
		return refuse(http.StatusNotFound, "NotFound", "the path is %d bytes: no such path here", len(path))
	}
	if path != "/" {
		path = strings.TrimSuffix(path, "/")
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for _, p := range parts {
		if strings.ContainsAny(p, "%\\") || p == "." || p == ".." || p == "" && path != "/" {
			return refuse(http.StatusNotFound, "NotFound", "no such path here: %s", quote(path))
		}
	}
	base := "https://" + r.Host
	switch {
	case path == "/":
		if r.URL.RawQuery != "" && !formatOnly(r) {
			return refuse(http.StatusBadRequest, "InvalidParameterValue", "the landing page takes no parameters but f=json")
		}
		writeJSON(w, http.StatusOK, landing(base))
		return nil
	case path == "/conformance":
		writeJSON(w, http.StatusOK, map[string]any{"conformsTo": conformance})
		return nil
	case path == "/api":
		w.Header().Set("Content-Type", "application/vnd.oai.openapi+json;version=3.0")
		writeBody(w, http.StatusOK, openAPI(base))
		return nil
	case path == "/collections":
		var list []collection
		for _, t := range s.types(tok) {
			list = append(list, describe(base, t))
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"links":       []link{{Href: base + "/collections", Rel: "self", Type: "application/json", Title: "the collections"}},
			"collections": list,
		})
		return nil
	}
	if parts[0] != "collections" || len(parts) > 4 || len(parts) == 3 && parts[2] != "items" || len(parts) == 4 && parts[2] != "items" {
		return refuse(http.StatusNotFound, "NotFound", "no such path here: %s", quote(path))
	}
	t, err := s.collection(parts[1], tok)
	if err != nil {
		return err
	}
	switch len(parts) {
	case 2:
		writeJSON(w, http.StatusOK, describe(base, t))
		return nil
	case 3:
		return s.items(w, r, base, t, tok)
	}
	return s.feature(w, r, base, t, tok, parts[3])
}

func formatOnly(r *http.Request) bool {
	q := r.URL.Query()
	return len(q) == 1 && q.Get("f") == "json"
}

// types are the record types served: those of the node's kits whose
// records have a location the token may read, by name.
func (s *Server) types(tok Token) []*schemas.Type {
	var out []*schemas.Type
	for _, k := range s.node.Kits().Kits() {
		for _, t := range k.Types {
			if node.HasLocation(t, node.ExportOptions{Personal: tok.Personal}) {
				out = append(out, t)
			}
		}
	}
	slices.SortFunc(out, func(a, b *schemas.Type) int { return strings.Compare(a.Name, b.Name) })
	return slices.CompactFunc(out, func(a, b *schemas.Type) bool { return a.Name == b.Name })
}

// collection is the served type of that name.
func (s *Server) collection(name string, tok Token) (*schemas.Type, *apiError) {
	t, ok := s.node.Kits().Type(name)
	if !ok || !node.HasLocation(t, node.ExportOptions{Personal: tok.Personal}) {
		return nil, refuse(http.StatusNotFound, "NotFound", "no collection %s here (GET /collections lists them)", quote(name))
	}
	return t, nil
}

type link struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

func landing(base string) map[string]any {
	return map[string]any{
		"title":       "Lifeline records",
		"description": "NEMO Belize's disaster-response records, read-only, as OGC API - Features",
		"links": []link{
			{Href: base + "/", Rel: "self", Type: "application/json", Title: "this page"},
			{Href: base + "/api", Rel: "service-desc", Type: "application/vnd.oai.openapi+json;version=3.0", Title: "the API's definition"},
			{Href: base + "/conformance", Rel: "conformance", Type: "application/json", Title: "the standards this API conforms to"},
			{Href: base + "/collections", Rel: "data", Type: "application/json", Title: "the record types"},
		},
	}
}

var conformance = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
}

type collection struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Extent      any      `json:"extent"`
	ItemType    string   `json:"itemType"`
	CRS         []string `json:"crs"`
	Links       []link   `json:"links"`
}

func describe(base string, t *schemas.Type) collection {
	u := base + "/collections/" + t.Name
	desc := "Records of type " + t.Name
	if f := timeField(t); f != "" {
		desc += "; datetime filters on " + f
	} else {
		desc += "; datetime filters on when a record last changed"
	}
	return collection{
		ID: t.Name, Title: t.Title.In("en"), Description: desc,
		Extent: map[string]any{
			"spatial":  map[string]any{"bbox": [][4]float64{BelizeBBox}, "crs": crs84},
			"temporal": map[string]any{"interval": [][2]*string{{nil, nil}}},
		},
		ItemType: "feature",
		CRS:      []string{crs84},
		Links: []link{
			{Href: u, Rel: "self", Type: "application/json", Title: t.Title.In("en")},
			{Href: u + "/items", Rel: "items", Type: "application/geo+json", Title: t.Title.In("en") + " (GeoJSON)"},
			{Href: u + "/items?f=csv", Rel: "items", Type: "text/csv", Title: t.Title.In("en") + " (CSV)"},
		},
	}
}

// timeField is the field datetime filters on: the type's first required
// date-and-time field (when the record was made in the field: reported_at
// of a damage assessment), else its first date-and-time field; "" when it
// has none, and then datetime is when the record last changed.
func timeField(t *schemas.Type) string {
	first := ""
	for _, f := range t.Fields {
		if f.Type != schemas.DateTime || f.Personal {
			continue
		}
		if f.Required.Always {
			return f.Name
		}
		if first == "" {
			first = f.Name
		}
	}
	return first
}
