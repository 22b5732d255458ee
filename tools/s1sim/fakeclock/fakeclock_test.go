package fakeclock

import (
	"testing"
	"time"
)

func TestAdvance(t *testing.T) {
	start := time.Date(2026, 11, 24, 4, 10, 0, 0, time.UTC)
	c := New(start)
	c.Advance(90 * time.Second)
	if got, want := c.Now(), start.Add(90*time.Second); !got.Equal(want) {
		t.Fatalf("Now() = %v, want %v", got, want)
	}
}
