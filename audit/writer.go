package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
)

// Writer is a Sink that writes one JSON object per line to an io.Writer. It is safe for
// concurrent use: each record is encoded first and handed to the io.Writer in a single
// Write call under a mutex, so lines never interleave.
type Writer struct {
	// Deny lists secret values that must never be written (the process registers its
	// SentinelOne API token and LLM key here). A record containing one is refused. Empty
	// values are ignored. Set it before the first Write; it is read without locking.
	Deny []string

	mu     sync.Mutex
	w      io.Writer
	sync   func() error // called after each record, under mu; nil for a plain Writer
	closed bool
}

// NewWriter returns a Writer that appends records to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w}
}

// Write validates r, refuses it if it looks like it carries a credential, and writes it
// as one line. A refused or invalid record writes nothing. The record's time is written
// in UTC.
func (w *Writer) Write(ctx context.Context, r Record) error {
	// The guard runs first: the other errors quote fields of the record.
	if err := checkSecrets(r, w.Deny); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("audit: record %s not written: %w", r.ID, err)
	}
	r.Time = r.Time.UTC()
	if !r.ThreatCreatedAt.IsZero() {
		r.ThreatCreatedAt = r.ThreatCreatedAt.UTC()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)              // keep "<", ">" and "&" readable in the SIEM
	if err := enc.Encode(r); err != nil { // Encode appends the newline
		return fmt.Errorf("audit: encode record %s: %w", r.ID, err)
	}
	line := buf.Bytes()

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("audit: record %s not written: %w", r.ID, fs.ErrClosed)
	}
	if w.w == nil {
		return fmt.Errorf("audit: record %s not written: no destination", r.ID)
	}
	n, err := w.w.Write(line)
	if err == nil && n != len(line) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("audit: write record %s: %w", r.ID, err)
	}
	if w.sync != nil {
		if err := w.sync(); err != nil {
			return fmt.Errorf("audit: sync record %s: %w", r.ID, err)
		}
	}
	return nil
}

// File is a Sink appending to a file, fsynced after every record so the trail survives a
// crash. Set Deny as on a Writer.
type File struct {
	Writer
	f *os.File
}

// OpenFile opens (creating it with mode 0600 if needed) the audit file at path for
// appending. An existing file keeps its permissions. The directory must exist.
func OpenFile(path string) (*File, error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		dir := filepath.Dir(path)
		if errors.Is(err, fs.ErrNotExist) {
			if _, statErr := os.Stat(dir); errors.Is(statErr, fs.ErrNotExist) {
				return nil, fmt.Errorf("audit: open %s: directory %s does not exist: %w", path, dir, err)
			}
		}
		return nil, fmt.Errorf("audit: open %s: %w", path, err)
	}
	// Make the file's directory entry durable too, in case it was just created.
	if err := syncDir(filepath.Dir(path)); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("audit: open %s: %w", path, err)
	}
	af := &File{f: f}
	af.w = f
	af.sync = f.Sync
	return af, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Close closes the file. Later writes fail; closing again is a no-op.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	if err := f.f.Close(); err != nil {
		return fmt.Errorf("audit: close %s: %w", f.f.Name(), err)
	}
	return nil
}

// What a credential looks like. The "ApiToken"/"Bearer" schemes must be followed by a
// token-like value of at least 16 characters, so prose such as "Bearer token found in the
// command line" (a legitimate triage reason) is still recorded; an "sk-" key must not be
// the tail of a longer word ("task-…").
var credentialPatterns = []struct {
	re   *regexp.Regexp
	what string
}{
	{regexp.MustCompile(`(?i)\bapitoken\s+[A-Za-z0-9._~+/=-]{16,}`), "an ApiToken credential"},
	{regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{16,}`), "a Bearer token"},
	{regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])sk-[A-Za-z0-9_-]{16,}`), "an sk- API key"},
}

// stringFields lists the string fields of Record (by index and JSON name), so a field
// added later is guarded without anyone remembering to.
var stringFields = func() (fields []struct {
	index int
	name  string
}) {
	t := reflect.TypeFor[Record]()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type.Kind() != reflect.String {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		fields = append(fields, struct {
			index int
			name  string
		}{i, name})
	}
	return fields
}()

// checkSecrets refuses a record whose string fields look like they carry a credential.
// The error names the field and the kind of secret, never the secret itself (nor the
// record ID when the ID is the culprit).
func checkSecrets(r Record, deny []string) error {
	v := reflect.ValueOf(r)
	refused := func(field, what string) error {
		id := r.ID
		if field == "id" {
			id = "(id withheld)"
		}
		return fmt.Errorf("audit: record %s refused: field %s %s", id, field, what)
	}
	for _, f := range stringFields {
		s := v.Field(f.index).String()
		if s == "" {
			continue
		}
		for _, d := range deny {
			if strings.TrimSpace(d) != "" && strings.Contains(s, d) {
				return refused(f.name, "contains a denied secret value")
			}
		}
		for _, p := range credentialPatterns {
			if p.re.MatchString(s) {
				return refused(f.name, "looks like it contains "+p.what)
			}
		}
	}
	return nil
}

// Open opens the audit log at path (append-only, fsynced), or standard output when
// path is empty, refusing records that carry any of secrets (the process's own
// credentials). close releases the file.
func Open(path string, secrets ...string) (sink Sink, close func(), err error) {
	var deny []string
	for _, s := range secrets {
		if s != "" {
			deny = append(deny, s)
		}
	}
	if path == "" {
		w := NewWriter(os.Stdout)
		w.Deny = deny
		return w, func() {}, nil
	}
	f, err := OpenFile(path)
	if err != nil {
		return nil, nil, err
	}
	f.Deny = deny
	return f, func() { _ = f.Close() }, nil
}
