package s1client

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlexString(t *testing.T) {
	for in, want := range map[string]FlexString{
		`"715718962991148224"`: "715718962991148224",
		`111111111111111111`:   "111111111111111111", // number: every digit kept, no float
		`1234567890123456789`:  "1234567890123456789",
		`null`:                 "",
		`""`:                   "",
		`"None"`:               "None", // a string is kept as sent
		`true`:                 "true",
	} {
		var got FlexString
		require.NoError(t, json.Unmarshal([]byte(in), &got), in)
		assert.Equal(t, want, got, in)
	}
	var s FlexString
	assert.Error(t, json.Unmarshal([]byte(`{"a":1}`), &s))
	assert.Error(t, json.Unmarshal([]byte(`[1]`), &s))
}

func TestFlexInt(t *testing.T) {
	for in, want := range map[string]FlexInt{
		`42`: 42, `"42"`: 42, `" 7 "`: 7, `42.0`: 42, `-3`: -3, `null`: 0, `""`: 0, `"None"`: 0, `"N/A"`: 0,
		`4010010`: 4010010,
	} {
		var got FlexInt
		require.NoError(t, json.Unmarshal([]byte(in), &got), in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{`"abc"`, `1.5`, `true`, `{}`} {
		var n FlexInt
		assert.Error(t, json.Unmarshal([]byte(bad), &n), bad)
	}
}

func TestFlexBool(t *testing.T) {
	for in, want := range map[string]FlexBool{
		`true`: true, `false`: false, `"True"`: true, `"False"`: false, `"true"`: true, `"TRUE"`: true,
		`1`: true, `0`: false, `"1"`: true, `null`: false, `""`: false, `"None"`: false,
	} {
		var got FlexBool
		require.NoError(t, json.Unmarshal([]byte(in), &got), in)
		assert.Equal(t, want, got, in)
	}
	var b FlexBool
	assert.Error(t, json.Unmarshal([]byte(`"maybe"`), &b))
	assert.Error(t, json.Unmarshal([]byte(`[]`), &b))
}

func TestTime(t *testing.T) {
	micro := time.Date(2019, 9, 15, 12, 5, 49, 95889000, time.UTC)
	for in, want := range map[string]time.Time{
		`"2019-09-15T12:05:49.095889Z"`: micro,
		`"2019-06-27T08:00:31Z"`:        time.Date(2019, 6, 27, 8, 0, 31, 0, time.UTC),
		`"2023-10-23T00:00:00.000Z"`:    time.Date(2023, 10, 23, 0, 0, 0, 0, time.UTC),
		`"2022-07-31T08:11:01+00:00"`:   time.Date(2022, 7, 31, 8, 11, 1, 0, time.UTC),
		`"2022-07-31T10:11:01+02:00"`:   time.Date(2022, 7, 31, 8, 11, 1, 0, time.UTC),
		`"2019-06-27T08:01:05.571895"`:  time.Date(2019, 6, 27, 8, 1, 5, 571895000, time.UTC),
		`1724151854609`:                 time.UnixMilli(1724151854609),
		`null`:                          {},
		`""`:                            {},
		`"None"`:                        {},
	} {
		var got Time
		require.NoError(t, json.Unmarshal([]byte(in), &got), in)
		assert.True(t, want.Equal(got.Time), "%s: got %v want %v", in, got.Time, want)
	}
	var tm Time
	assert.Error(t, json.Unmarshal([]byte(`"yesterday"`), &tm))
	assert.Error(t, json.Unmarshal([]byte(`{}`), &tm))

	b, err := json.Marshal(Time{micro})
	require.NoError(t, err)
	assert.JSONEq(t, `"2019-09-15T12:05:49.095889Z"`, string(b))
	b, err = json.Marshal(Time{})
	require.NoError(t, err)
	assert.Equal(t, "null", string(b))
}
