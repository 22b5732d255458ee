package guard

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClean(t *testing.T) {
	assert.Equal(t, "a b", Clean("a\nb"))
	assert.Equal(t, "", Clean("S1DS1DATAATA"), "removal cannot reassemble a marker")
	assert.Equal(t, "x", Clean("<<<<<<x>>>>>>"))
	assert.Equal(t, "x", Clean("<<<s1DaTa>>>x"))
	assert.Equal(t, "\uFFFDok", Clean("\xffok"))
}
