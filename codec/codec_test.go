package codec

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func testRing(t testing.TB, keys ...Key) *Keyring {
	t.Helper()
	if len(keys) == 0 {
		keys = []Key{{ID: "k1", Key: testKey(1)}}
	}
	k, err := NewKeyring(keys...)
	require.NoError(t, err)
	return k
}

type threatInput struct {
	ThreatID    string
	Host        string
	User        string
	CommandLine string
	Score       int
}

func TestDataConverterRoundTripHidesPlaintext(t *testing.T) {
	dc := DataConverter(testRing(t))
	in := threatInput{ThreatID: "t-1", Host: "FINANCE-LAPTOP-07", User: "ACME\\jdoe", CommandLine: `powershell.exe -enc SQBFAFgA`, Score: 9}
	values := []any{"plain string secret-host-name", in, []byte("raw-bytes-marker"), 42, nil}
	for _, v := range values {
		p, err := dc.ToPayload(v)
		require.NoError(t, err)
		assert.Equal(t, MetadataEncodingEncrypted, string(p.Metadata[converter.MetadataEncoding]))
		assert.Equal(t, "k1", string(p.Metadata[MetadataEncryptionKeyID]))
		raw, err := proto.Marshal(p)
		require.NoError(t, err)
		for _, s := range []string{"secret-host-name", "FINANCE-LAPTOP-07", "jdoe", "powershell", "raw-bytes-marker", "json/plain"} {
			assert.NotContains(t, string(raw), s, "the encoded payload shows %q", s)
		}
	}

	ps, err := dc.ToPayloads(values...)
	require.NoError(t, err)
	var (
		s   string
		got threatInput
		b   []byte
		n   int
		nul *string
	)
	require.NoError(t, dc.FromPayloads(ps, &s, &got, &b, &n, &nul))
	assert.Equal(t, "plain string secret-host-name", s)
	assert.Equal(t, in, got)
	assert.Equal(t, []byte("raw-bytes-marker"), b)
	assert.Equal(t, 42, n)
	assert.Nil(t, nul)
}

// Decode restores the original payload exactly, its encoding metadata included.
func TestDecodeRestoresOriginalMetadata(t *testing.T) {
	c := NewCodec(testRing(t))
	orig := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain"), "messageType": []byte("x.Y")}, Data: []byte(`{"a":1}`)}
	enc, err := c.Encode([]*commonpb.Payload{orig})
	require.NoError(t, err)
	dec, err := c.Decode(enc)
	require.NoError(t, err)
	assert.True(t, proto.Equal(orig, dec[0]))
}

func TestNonceIsRandomPerPayload(t *testing.T) {
	c := NewCodec(testRing(t))
	p := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"same"`)}
	a, err := c.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	b, err := c.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	assert.NotEqual(t, a[0].Data, b[0].Data)
	assert.NotEqual(t, a[0].Data[:NonceSize], b[0].Data[:NonceSize])
}

func TestRotation(t *testing.T) {
	keyA, keyB := Key{ID: "A", Key: testKey(0xA)}, Key{ID: "B", Key: testKey(0xB)}
	old := DataConverter(testRing(t, keyA))
	oldPayload, err := old.ToPayload("before rotation")
	require.NoError(t, err)

	rotated := DataConverter(testRing(t, keyB, keyA)) // B current, A kept
	var s string
	require.NoError(t, rotated.FromPayload(oldPayload, &s))
	assert.Equal(t, "before rotation", s)

	newPayload, err := rotated.ToPayload("after rotation")
	require.NoError(t, err)
	assert.Equal(t, "B", string(newPayload.Metadata[MetadataEncryptionKeyID]))
	require.NoError(t, rotated.FromPayload(newPayload, &s))
	assert.Equal(t, "after rotation", s)

	// The old ring cannot read the new payloads, and says which key it lacks.
	err = old.FromPayload(newPayload, &s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `key ID "B"`)
}

func TestUnknownKeyID(t *testing.T) {
	enc, err := NewCodec(testRing(t, Key{ID: "prod-2027", Key: testKey(7)})).Encode([]*commonpb.Payload{{Data: []byte("x")}})
	require.NoError(t, err)
	_, err = NewCodec(testRing(t, Key{ID: "prod-2026", Key: testKey(6)})).Decode(enc)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `key ID "prod-2027"`)
	assert.Contains(t, err.Error(), "add that key to the key ring")
	assert.NotContains(t, err.Error(), base64.StdEncoding.EncodeToString(testKey(6)))
}

func TestTamperDetection(t *testing.T) {
	c := NewCodec(testRing(t))
	enc, err := c.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"approve"`)}})
	require.NoError(t, err)

	flipped := proto.Clone(enc[0]).(*commonpb.Payload)
	flipped.Data[len(flipped.Data)-1] ^= 1
	_, err = c.Decode([]*commonpb.Payload{flipped})
	assert.ErrorContains(t, err, "tampered")

	nonce := proto.Clone(enc[0]).(*commonpb.Payload)
	nonce.Data[0] ^= 1
	_, err = c.Decode([]*commonpb.Payload{nonce})
	assert.ErrorContains(t, err, "tampered")

	short := proto.Clone(enc[0]).(*commonpb.Payload)
	short.Data = short.Data[:5]
	_, err = c.Decode([]*commonpb.Payload{short})
	assert.ErrorContains(t, err, "corrupt")

	// The key ID is authenticated: relabelling a payload with another key of the ring fails.
	ring := testRing(t, Key{ID: "k1", Key: testKey(1)}, Key{ID: "k2", Key: testKey(1)})
	c2 := NewCodec(ring)
	enc2, err := c2.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	require.NoError(t, err)
	enc2[0].Metadata[MetadataEncryptionKeyID] = []byte("k2")
	_, err = c2.Decode(enc2)
	assert.ErrorContains(t, err, "tampered")
}

func TestCompressionShrinksAndRoundTrips(t *testing.T) {
	c := NewCodec(testRing(t))
	big := []byte(`{"events":[` + strings.Repeat(`{"host":"FINANCE-LAPTOP-07","process":"powershell.exe","action":"blocked"},`, 200) + `{}]}`)
	orig := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: big}
	enc, err := c.Encode([]*commonpb.Payload{orig})
	require.NoError(t, err)
	assert.Less(t, len(enc[0].Data), len(big)/5, "a repetitive payload compresses before encryption")
	dec, err := c.Decode(enc)
	require.NoError(t, err)
	assert.True(t, proto.Equal(orig, dec[0]))

	// Small payloads are stored as they are: ciphertext = format byte + payload + nonce + tag.
	small := &commonpb.Payload{Data: bytes.Repeat([]byte("a"), 100)}
	plain, err := proto.Marshal(small)
	require.NoError(t, err)
	enc, err = c.Encode([]*commonpb.Payload{small})
	require.NoError(t, err)
	assert.Equal(t, NonceSize+1+len(plain)+16, len(enc[0].Data))

	// Incompressible large payloads are not inflated by compression.
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(i*7919 + i*i*31)
	}
	key, err := GenerateKey()
	require.NoError(t, err)
	rnd, _ := base64.StdEncoding.DecodeString(key)
	random = append(random, bytes.Repeat(rnd, 2)...)
	rp := &commonpb.Payload{Data: random}
	enc, err = c.Encode([]*commonpb.Payload{rp})
	require.NoError(t, err)
	plain, _ = proto.Marshal(rp)
	assert.LessOrEqual(t, len(enc[0].Data), NonceSize+1+len(plain)+16)
	dec, err = c.Decode(enc)
	require.NoError(t, err)
	assert.True(t, proto.Equal(rp, dec[0]))
}

// The SDK does not run typed search attributes (or memo-less headers) through the data
// converter's codec: they are encoded by the default converter as json/plain so the
// server can index them. This codec therefore leaves such payloads alone: Decode passes
// json/plain through unchanged, and only Encode, which the client calls for workflow
// inputs, results and activity arguments, encrypts. Do not put secrets in search
// attributes.
func TestSearchAttributesAreNotEncrypted(t *testing.T) {
	c := NewCodec(testRing(t))
	sa, err := converter.GetDefaultDataConverter().ToPayload("FINANCE-LAPTOP-07")
	require.NoError(t, err)
	require.Equal(t, "json/plain", string(sa.Metadata[converter.MetadataEncoding]))
	dec, err := c.Decode([]*commonpb.Payload{sa})
	require.NoError(t, err)
	assert.Same(t, sa, dec[0], "a json/plain payload passes through Decode unchanged")

	enc, err := c.Encode([]*commonpb.Payload{sa})
	require.NoError(t, err)
	assert.Equal(t, MetadataEncodingEncrypted, string(enc[0].Metadata[converter.MetadataEncoding]), "what goes through Encode (inputs) is encrypted")
}

func TestLoadKeyring(t *testing.T) {
	a, b := base64.StdEncoding.EncodeToString(testKey(1)), base64.StdEncoding.EncodeToString(testKey(2))
	k, err := LoadKeyring("new:" + b + ", old:" + a)
	require.NoError(t, err)
	assert.Equal(t, "new", k.CurrentKeyID())
	assert.Equal(t, []string{"new", "old"}, k.KeyIDs())

	unpadded := strings.TrimRight(a, "=")
	k, err = LoadKeyring("x:" + unpadded)
	require.NoError(t, err)
	assert.Equal(t, "x", k.CurrentKeyID())

	short := base64.StdEncoding.EncodeToString(testKey(3)[:16])
	for _, tc := range []struct{ spec, want string }{
		{"", "spec is empty"},
		{"k1:" + short, `key "k1" is 16 bytes, it must be 32`},
		{"k1:" + a + ",k1:" + b, `key ID "k1" appears twice`},
		{"k1:not*base64!", `entry 1 (key ID "k1"): the key is not valid base64`},
		{":" + a, "entry 1 has an empty key ID"},
		{"k1", "entry 1 is not id:base64key"},
		{"k 1:" + a, `key ID "k 1" may contain only`},
	} {
		_, err := LoadKeyring(tc.spec)
		if assert.Error(t, err, tc.spec) {
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), a)
			assert.NotContains(t, err.Error(), b)
			assert.NotContains(t, err.Error(), short)
			assert.NotContains(t, err.Error(), "not*base64!")
		}
	}
}

func TestLoadKeyringFile(t *testing.T) {
	a, b := base64.StdEncoding.EncodeToString(testKey(1)), base64.StdEncoding.EncodeToString(testKey(2))
	path := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(path, []byte("# rotated 2026-12\n\n2026-12:"+b+"\n# old\n2026-06:"+a+"\n"), 0o600))
	k, err := LoadKeyringFile(path)
	require.NoError(t, err)
	assert.Equal(t, "2026-12", k.CurrentKeyID())
	assert.Equal(t, []string{"2026-12", "2026-06"}, k.KeyIDs())

	require.NoError(t, os.WriteFile(path, []byte("# nothing\n"), 0o600))
	_, err = LoadKeyringFile(path)
	assert.ErrorContains(t, err, "has no keys")

	require.NoError(t, os.WriteFile(path, []byte("a:"+a+"\nb:"+a[:10]+"\n"), 0o600))
	_, err = LoadKeyringFile(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `key "b" is 7 bytes`)
	assert.NotContains(t, err.Error(), a[:10])

	_, err = LoadKeyringFile(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorContains(t, err, "reading the key ring file")
}

func TestGenerateKey(t *testing.T) {
	k1, err := GenerateKey()
	require.NoError(t, err)
	k2, err := GenerateKey()
	require.NoError(t, err)
	assert.NotEqual(t, k1, k2)
	raw, err := base64.StdEncoding.DecodeString(k1)
	require.NoError(t, err)
	assert.Len(t, raw, KeySize)
	_, err = LoadKeyring("gen:" + k1)
	assert.NoError(t, err)
}

// A payload that inflates beyond MaxPayloadBytes (a crafted "zip bomb") is refused.
func TestInflationIsBounded(t *testing.T) {
	big := bytes.Repeat([]byte{'a'}, MaxPayloadBytes+1)
	_, err := unpack(pack(big))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "inflates beyond")
	small := bytes.Repeat([]byte{'a'}, 1<<20)
	out, err := unpack(pack(small))
	require.NoError(t, err)
	assert.Equal(t, small, out)
}
