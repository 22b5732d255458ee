// Package codec encrypts Temporal payloads with AES-256-GCM, so that workflow inputs,
// results and activity arguments (hosts, users, command lines from SentinelOne) are
// stored in Temporal's history as ciphertext. The same codec, served over HTTP
// (NewServer), lets the Temporal Web UI show them decrypted to authorised users.
//
// Keys come from a Keyring: named 32-byte keys, one of them current. Encode uses the
// current key and names it in the payload's metadata; Decode uses whichever key the
// payload names, so rotating is: add a new key, make it current, keep the old ones for
// as long as histories encrypted with them are read.
//
// The package imports nothing of the project, so that config and any command can use it.
package codec

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

const (
	// MetadataEncodingEncrypted is the "encoding" metadata value of an encrypted payload.
	MetadataEncodingEncrypted = "binary/encrypted"
	// MetadataEncryptionKeyID is the metadata key naming the key a payload was encrypted with.
	MetadataEncryptionKeyID = "encryption-key-id"
	// KeySize is the length of an AES-256 key in bytes.
	KeySize = 32
	// NonceSize is the length of the random GCM nonce prepended to each ciphertext.
	NonceSize = 12
	// CompressThreshold: smaller payloads are never compressed, the gain would not
	// pay for the deflate header and the CPU.
	CompressThreshold = 256
)

// The first plaintext byte says how the marshalled payload that follows is stored, so
// that Decode knows without a metadata flag an attacker could flip (it is encrypted
// and authenticated with the rest).
const (
	formatRaw     byte = 0
	formatDeflate byte = 1
)

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Keyring holds named AES-256 keys, one of them current (the one Encode uses).
type Keyring struct {
	current string
	ids     []string // in the order given, current first in parsed specs
	aeads   map[string]cipher.AEAD
}

// Key is one named key of a Keyring.
type Key struct {
	ID  string
	Key []byte
}

// NewKeyring builds a key ring whose current key is keys[0]. IDs must be unique,
// non-empty and made of [A-Za-z0-9._-]; every key must be 32 bytes.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("codec: the key ring needs at least one key")
	}
	k := &Keyring{current: keys[0].ID, aeads: make(map[string]cipher.AEAD, len(keys))}
	for i, key := range keys {
		if key.ID == "" {
			return nil, fmt.Errorf("codec: key %d has an empty ID; give every key a name of letters, digits, '.', '_' or '-'", i+1)
		}
		if !keyIDPattern.MatchString(key.ID) {
			return nil, fmt.Errorf("codec: key ID %q may contain only letters, digits, '.', '_' and '-'", key.ID)
		}
		if _, dup := k.aeads[key.ID]; dup {
			return nil, fmt.Errorf("codec: key ID %q appears twice in the key ring; key IDs must be unique", key.ID)
		}
		if len(key.Key) != KeySize {
			return nil, fmt.Errorf("codec: key %q is %d bytes, it must be %d (generate one with GenerateKey, e.g. `openssl rand -base64 32`)", key.ID, len(key.Key), KeySize)
		}
		block, err := aes.NewCipher(key.Key)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", key.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", key.ID, err)
		}
		k.aeads[key.ID] = aead
		k.ids = append(k.ids, key.ID)
	}
	return k, nil
}

// CurrentKeyID is the ID of the key Encode uses.
func (k *Keyring) CurrentKeyID() string { return k.current }

// KeyIDs are the IDs of every key in the ring, current first. IDs are not secret.
func (k *Keyring) KeyIDs() []string { return append([]string(nil), k.ids...) }

// LoadKeyring parses a key ring spec "id1:base64key,id2:base64key"; the first key is
// current. Errors say which entry is wrong and never include key material.
func LoadKeyring(spec string) (*Keyring, error) {
	var entries []string
	for _, e := range strings.Split(spec, ",") {
		if e = strings.TrimSpace(e); e != "" {
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		return nil, errors.New("codec: the key ring spec is empty; expected id:base64key[,id:base64key...] (the first is current)")
	}
	return parseEntries(entries, "entry")
}

// LoadKeyringFile reads a key ring file: one "id:base64key" per line, blank lines and
// lines starting with # ignored; the first key is current.
func LoadKeyringFile(path string) (*Keyring, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("codec: reading the key ring file: %w", err)
	}
	k, err := ParseKeyringFile(raw)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return k, nil
}

// ParseKeyringFile parses the contents of a key ring file (see LoadKeyringFile).
func ParseKeyringFile(raw []byte) (*Keyring, error) {
	var entries []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		entries = append(entries, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("codec: reading the key ring file: %w", err)
	}
	if len(entries) == 0 {
		return nil, errors.New("codec: the key ring file has no keys; expected one id:base64key per line (the first is current)")
	}
	return parseEntries(entries, "key line")
}

// parseEntries turns "id:base64key" entries into a Keyring; what names an entry in
// errors ("entry", "key line"), never its text, which holds the key.
func parseEntries(entries []string, what string) (*Keyring, error) {
	keys := make([]Key, 0, len(entries))
	for i, e := range entries {
		id, b64, ok := strings.Cut(e, ":")
		id, b64 = strings.TrimSpace(id), strings.TrimSpace(b64)
		if !ok || b64 == "" {
			return nil, fmt.Errorf("codec: key ring %s %d is not id:base64key", what, i+1)
		}
		if id == "" {
			return nil, fmt.Errorf("codec: key ring %s %d has an empty key ID; write id:base64key", what, i+1)
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			// RawStd too: keys pasted without their '=' padding are common.
			if key, err = base64.RawStdEncoding.DecodeString(b64); err != nil {
				return nil, fmt.Errorf("codec: key ring %s %d (key ID %q): the key is not valid base64; use standard base64 of 32 random bytes (GenerateKey)", what, i+1, id)
			}
		}
		keys = append(keys, Key{ID: id, Key: key})
	}
	return NewKeyring(keys...)
}

// GenerateKey returns a new random 32-byte key, base64-encoded for a key ring spec.
func GenerateKey() (string, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("codec: generating a key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(key), nil
}

// Codec is a converter.PayloadCodec that encrypts with the key ring's current key and
// decrypts with any key of the ring.
type Codec struct {
	ring *Keyring
}

var _ converter.PayloadCodec = (*Codec)(nil)

// NewCodec returns the codec of a key ring.
func NewCodec(k *Keyring) *Codec { return &Codec{ring: k} }

// DataConverter is the SDK's default data converter with payloads encrypted by k: give
// it to client.Options.DataConverter in every process (worker, starter, bot) that
// shares the namespace's histories.
func DataConverter(k *Keyring) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), NewCodec(k))
}

// Encode encrypts each payload, metadata included, with the current key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	id := c.ring.current
	aead := c.ring.aeads[id]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("codec: marshalling payload %d: %w", i, err)
		}
		body := pack(plain)
		sealed := make([]byte, NonceSize, NonceSize+len(body)+aead.Overhead())
		if _, err := rand.Read(sealed); err != nil {
			return nil, fmt.Errorf("codec: generating a nonce: %w", err)
		}
		sealed = aead.Seal(sealed, sealed[:NonceSize], body, []byte(id))
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(MetadataEncodingEncrypted),
				MetadataEncryptionKeyID:    []byte(id),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode decrypts the encrypted payloads with the key each names; any other payload
// (not encrypted by this codec) passes through unchanged.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != MetadataEncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataEncryptionKeyID])
		aead, ok := c.ring.aeads[id]
		if !ok {
			return nil, fmt.Errorf("codec: payload %d was encrypted with key ID %q, which is not in the key ring (it has %s): add that key to the key ring", i, id, strings.Join(c.ring.ids, ", "))
		}
		data := p.GetData()
		if len(data) < NonceSize+aead.Overhead() {
			return nil, fmt.Errorf("codec: payload %d (key ID %q) is too short to be encrypted data: it is corrupt", i, id)
		}
		body, err := aead.Open(nil, data[:NonceSize], data[NonceSize:], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("codec: payload %d failed authentication with key ID %q: the ciphertext was tampered with or corrupted, or the key with that ID is not the one it was encrypted with", i, id)
		}
		plain, err := unpack(body)
		if err != nil {
			return nil, fmt.Errorf("codec: payload %d (key ID %q): %w", i, id, err)
		}
		var orig commonpb.Payload
		if err := proto.Unmarshal(plain, &orig); err != nil {
			return nil, fmt.Errorf("codec: payload %d (key ID %q): unmarshalling the decrypted payload: %w", i, id, err)
		}
		out[i] = &orig
	}
	return out, nil
}

var writers = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.DefaultCompression) // only fails on a bad level
	return w
}}

var readers = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}

// pack prefixes the marshalled payload with its format byte, deflating it when that
// makes it smaller (JSON of threats and notes compresses well, and ciphertext does not
// compress at all, so it is now or never).
func pack(plain []byte) []byte {
	if len(plain) > CompressThreshold {
		var buf bytes.Buffer
		buf.Grow(len(plain)/2 + 1)
		buf.WriteByte(formatDeflate)
		w := writers.Get().(*flate.Writer)
		w.Reset(&buf)
		_, werr := w.Write(plain)
		cerr := w.Close()
		writers.Put(w)
		if werr == nil && cerr == nil && buf.Len() < len(plain)+1 {
			return buf.Bytes()
		}
	}
	body := make([]byte, 1+len(plain))
	body[0] = formatRaw
	copy(body[1:], plain)
	return body
}

// MaxPayloadBytes bounds what one payload may inflate to (Temporal's own blob limit is
// 2 MiB by default), so a crafted payload cannot exhaust memory.
const MaxPayloadBytes = 64 << 20

func unpack(body []byte) ([]byte, error) {
	if len(body) == 0 {
		return nil, errors.New("the decrypted payload is empty")
	}
	switch body[0] {
	case formatRaw:
		return body[1:], nil
	case formatDeflate:
		r := readers.Get().(io.ReadCloser)
		defer readers.Put(r)
		if err := r.(flate.Resetter).Reset(bytes.NewReader(body[1:]), nil); err != nil {
			return nil, fmt.Errorf("decompressing the decrypted payload: %w", err)
		}
		var buf bytes.Buffer
		buf.Grow(4 * len(body)) // JSON deflates about 4:1; ReadFrom grows it if not
		if _, err := buf.ReadFrom(io.LimitReader(r, MaxPayloadBytes+1)); err != nil {
			return nil, fmt.Errorf("decompressing the decrypted payload: %w", err)
		}
		if buf.Len() > MaxPayloadBytes {
			// Temporal refuses payloads far smaller; only a crafted one gets here.
			return nil, fmt.Errorf("the decrypted payload inflates beyond %d bytes", MaxPayloadBytes)
		}
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("unknown payload format %d (written by a newer version?)", body[0])
}
