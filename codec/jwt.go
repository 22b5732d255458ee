package codec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"
)

// JWTVerifier checks the access tokens the Temporal Web UI forwards to the codec endpoint
// when it is set to include the user's credentials: signed by the identity provider
// (RS256 or ES256, a key of its JWKS), not expired, from the expected issuer and for the
// expected audience, and, when Groups is set, naming one of those groups. Only the
// signature algorithms named here are accepted, never "none" or HMAC, whatever the
// token's header says.
type JWTVerifier struct {
	mu       sync.RWMutex
	keys     map[string]crypto.PublicKey // by kid; replaced whole by SetKeys
	issuer   string
	audience string
	groups   []string
	// Now is the clock (time.Now when nil); Leeway tolerates clock skew.
	Now    func() time.Time
	Leeway time.Duration
}

// JWTOptions configure NewJWTVerifier.
type JWTOptions struct {
	// JWKS is the provider's JSON Web Key Set ({"keys":[…]}), e.g. its jwks_uri's body.
	JWKS []byte
	// Issuer and Audience, when set, must equal the token's iss and be one of its aud.
	Issuer, Audience string
	// Groups, when set: the token's "groups" claim must hold one of them (those allowed
	// to read decrypted payloads).
	Groups []string
}

// NewJWTVerifier reads the key set; it fails on a set with no usable key.
func NewJWTVerifier(o JWTOptions) (*JWTVerifier, error) {
	v := &JWTVerifier{issuer: o.Issuer, audience: o.Audience, groups: o.Groups, Leeway: time.Minute}
	if err := v.SetKeys(o.JWKS); err != nil {
		return nil, err
	}
	return v, nil
}

// SetKeys replaces the key set (the provider rotated its keys); on error the old set stays.
func (v *JWTVerifier) SetKeys(jwks []byte) error {
	keys, err := parseJWKS(jwks)
	if err != nil {
		return err
	}
	v.mu.Lock()
	v.keys = keys
	v.mu.Unlock()
	return nil
}

func parseJWKS(jwks []byte) (map[string]crypto.PublicKey, error) {
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			N   string `json:"n"`
			E   string `json:"e"`
			Crv string `json:"crv"`
			X   string `json:"x"`
			Y   string `json:"y"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, fmt.Errorf("JWKS is not a JSON Web Key Set: %w", err)
	}
	keys := map[string]crypto.PublicKey{}
	for i, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		pub, err := jwkPublicKey(k.Kty, k.N, k.E, k.Crv, k.X, k.Y)
		if err != nil {
			return nil, fmt.Errorf("JWKS key %d (kid %q): %w", i+1, k.Kid, err)
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS holds no signing key (RSA or EC P-256)")
	}
	return keys, nil
}

func jwkPublicKey(kty, n, e, crv, x, y string) (crypto.PublicKey, error) {
	switch kty {
	case "RSA":
		nb, err1 := base64.RawURLEncoding.DecodeString(n)
		eb, err2 := base64.RawURLEncoding.DecodeString(e)
		if err := errors.Join(err1, err2); err != nil || len(nb) < 256 {
			return nil, errors.New("an RSA key needs base64url n (2048 bits or more) and e")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}, nil
	case "EC":
		if crv != "P-256" {
			return nil, fmt.Errorf("EC curve %q: only P-256 (ES256) is accepted", crv)
		}
		xb, err1 := base64.RawURLEncoding.DecodeString(x)
		yb, err2 := base64.RawURLEncoding.DecodeString(y)
		if err := errors.Join(err1, err2); err != nil {
			return nil, errors.New("an EC key needs base64url x and y")
		}
		pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(xb), Y: new(big.Int).SetBytes(yb)}
		if !pub.Curve.IsOnCurve(pub.X, pub.Y) { //nolint:staticcheck // validating an untrusted point
			return nil, errors.New("EC point is not on P-256")
		}
		return pub, nil
	}
	return nil, fmt.Errorf("key type %q: only RSA and EC are accepted", kty)
}

// Verify returns nil for a token that passes every check, else why it does not (for
// the log; the caller answers 401 without the reason).
func (v *JWTVerifier) Verify(token string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return fmt.Errorf("JWT header: %w", err)
	}
	v.mu.RLock()
	key, ok := v.keys[header.Kid]
	v.mu.RUnlock()
	if !ok {
		return fmt.Errorf("JWT signed with unknown key %q", header.Kid)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return errors.New("JWT signature is not base64url")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch pub := key.(type) {
	case *rsa.PublicKey:
		if header.Alg != "RS256" || rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
			return errors.New("JWT signature does not verify (RS256)")
		}
	case *ecdsa.PublicKey:
		if header.Alg != "ES256" || len(sig) != 64 ||
			!ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			return errors.New("JWT signature does not verify (ES256)")
		}
	}
	var claims struct {
		Iss    string          `json:"iss"`
		Aud    json.RawMessage `json:"aud"`
		Exp    *float64        `json:"exp"`
		Nbf    *float64        `json:"nbf"`
		Groups []string        `json:"groups"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return fmt.Errorf("JWT claims: %w", err)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now()
	switch {
	case claims.Exp == nil:
		return errors.New("JWT has no expiry")
	case t.After(time.Unix(int64(*claims.Exp), 0).Add(v.Leeway)):
		return errors.New("JWT has expired")
	case claims.Nbf != nil && t.Add(v.Leeway).Before(time.Unix(int64(*claims.Nbf), 0)):
		return errors.New("JWT is not valid yet")
	case v.issuer != "" && claims.Iss != v.issuer:
		return fmt.Errorf("JWT issuer %q is not %q", claims.Iss, v.issuer)
	}
	if v.audience != "" && !audienceHas(claims.Aud, v.audience) {
		return fmt.Errorf("JWT is not for audience %q", v.audience)
	}
	if len(v.groups) > 0 && !slices.ContainsFunc(claims.Groups, func(g string) bool { return slices.Contains(v.groups, g) }) {
		return errors.New("JWT names none of the groups allowed to decode")
	}
	return nil
}

func decodeSegment(seg string, out any) error {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return errors.New("not base64url")
	}
	return json.Unmarshal(raw, out)
}

// audienceHas reads aud as one string or a list.
func audienceHas(raw json.RawMessage, want string) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == want
	}
	var many []string
	return json.Unmarshal(raw, &many) == nil && slices.Contains(many, want)
}
