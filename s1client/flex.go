package s1client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The console, and the fixtures other integrations captured from it, are loose about JSON
// types: IDs arrive as strings or numbers, booleans as true or "True", counts as "3", and
// some fixtures carry Python's "None" for null. These small types absorb that so that one
// odd field never fails the decode of a whole page of threats.

// isNullish reports whether a raw JSON value means "no value": null, "", or "None"/"null".
func isNullish(b []byte) bool {
	b = bytes.TrimSpace(b)
	switch string(b) {
	case "", "null", `""`, `"None"`, `"null"`:
		return true
	}
	return false
}

// unquote returns the string content of a JSON string, or ok=false if b is not a string.
func unquote(b []byte) (string, bool, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '"' {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", true, err
	}
	return s, true, nil
}

// FlexString is a string that also accepts JSON numbers and booleans (kept verbatim, so an
// 18-digit ID sent as a number keeps every digit) and null.
type FlexString string

// String returns the value as a plain string.
func (s FlexString) String() string { return string(s) }

// UnmarshalJSON implements json.Unmarshaler.
func (s *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*s = ""
		return nil
	}
	if str, ok, err := unquote(b); ok {
		if err != nil {
			return fmt.Errorf("s1: flex string: %w", err)
		}
		*s = FlexString(str)
		return nil
	}
	switch b[0] {
	case '{', '[':
		return fmt.Errorf("s1: flex string: unexpected JSON %s", typeOfJSON(b))
	}
	// A number or a boolean: keep the literal text (no float round trip).
	*s = FlexString(b)
	return nil
}

// FlexInt is an integer that also accepts numeric strings ("42"), integral floats (42.0),
// and null/""/"None"/"N/A" (as 0).
type FlexInt int64

// Int returns the value as an int.
func (n FlexInt) Int() int { return int(n) }

// UnmarshalJSON implements json.Unmarshaler.
func (n *FlexInt) UnmarshalJSON(b []byte) error {
	if isNullish(b) {
		*n = 0
		return nil
	}
	text := string(bytes.TrimSpace(b))
	if str, ok, err := unquote(b); ok {
		if err != nil {
			return fmt.Errorf("s1: flex int: %w", err)
		}
		text = strings.TrimSpace(str)
		if strings.EqualFold(text, "n/a") {
			*n = 0
			return nil
		}
	}
	if v, err := strconv.ParseInt(text, 10, 64); err == nil {
		*n = FlexInt(v)
		return nil
	}
	f, err := strconv.ParseFloat(text, 64)
	// float64(math.MaxInt64) is 2^63, itself out of range: >= keeps the conversion defined.
	if err != nil || f != math.Trunc(f) || math.Abs(f) >= math.MaxInt64 {
		return fmt.Errorf("s1: flex int: cannot use %.40q as an integer", text)
	}
	*n = FlexInt(f)
	return nil
}

// FlexBool is a boolean that also accepts "true"/"True"/"false"/"False", "1"/"0", 1/0, and
// null/""/"None" (as false). Deep Visibility and some agent fields send "True"/"False".
type FlexBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *FlexBool) UnmarshalJSON(b []byte) error {
	if isNullish(b) {
		*v = false
		return nil
	}
	text := string(bytes.TrimSpace(b))
	if str, ok, err := unquote(b); ok {
		if err != nil {
			return fmt.Errorf("s1: flex bool: %w", err)
		}
		text = strings.TrimSpace(str)
	}
	switch strings.ToLower(text) {
	case "true", "1", "yes":
		*v = true
	case "false", "0", "no":
		*v = false
	default:
		return fmt.Errorf("s1: flex bool: cannot use %.40q as a boolean", text)
	}
	return nil
}

// Time is a timestamp that accepts RFC 3339 with or without fractional seconds
// ("2019-09-15T12:05:49.095889Z", "2022-07-31T08:11:01+00:00"), a zone-less form (taken as
// UTC), and null/""/"None" (as the zero time). It marshals back to RFC 3339 (null if zero).
type Time struct{ time.Time }

// maxEpochMillis is 9999-12-31 in epoch milliseconds.
const maxEpochMillis = 253402300799999

// zonelessLayout covers timestamps some endpoints send without a zone designator.
const zonelessLayout = "2006-01-02T15:04:05.999999999"

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	if isNullish(b) {
		t.Time = time.Time{}
		return nil
	}
	str, ok, err := unquote(b)
	if err != nil {
		return fmt.Errorf("s1: time: %w", err)
	}
	if !ok {
		// A bare number: epoch milliseconds (Power Query) or seconds.
		f, perr := strconv.ParseFloat(string(bytes.TrimSpace(b)), 64)
		if perr != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("s1: time: unexpected JSON %s", typeOfJSON(bytes.TrimSpace(b)))
		}
		// Beyond year 9999 either way is no timestamp the console sends.
		if math.Abs(f) > maxEpochMillis {
			return fmt.Errorf("s1: time: epoch %.0f out of range", f)
		}
		if math.Abs(f) > 1e11 {
			t.Time = time.UnixMilli(int64(f)).UTC()
		} else {
			t.Time = time.Unix(int64(f), 0).UTC()
		}
		return nil
	}
	str = strings.TrimSpace(str)
	if parsed, perr := time.Parse(time.RFC3339Nano, str); perr == nil {
		t.Time = parsed
		return nil
	}
	if parsed, perr := time.ParseInLocation(zonelessLayout, str, time.UTC); perr == nil {
		t.Time = parsed
		return nil
	}
	return fmt.Errorf("s1: time: cannot parse %.60q", str)
}

// MarshalJSON implements json.Marshaler. Like time.Time it refuses years outside 0..9999,
// which RFC 3339 cannot express.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return t.UTC().MarshalJSON()
}

func typeOfJSON(b []byte) string {
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case '"':
		return "string"
	default:
		return "number"
	}
}
