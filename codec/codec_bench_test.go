package codec

import (
	"encoding/json"
	"fmt"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// typicalJSON is a threat-like JSON payload of about size bytes: mixed field names,
// hosts, users and command lines, as compressible as the real ones.
func typicalJSON(tb testing.TB, size int) *commonpb.Payload {
	tb.Helper()
	type event struct {
		Host, User, Process, CommandLine, SHA1 string
		PID                                    int
	}
	var events []event
	for i := 0; ; i++ {
		events = append(events, event{
			Host: fmt.Sprintf("FIN-LAPTOP-%03d", i), User: fmt.Sprintf("ACME\\user%d", i*7),
			Process: "powershell.exe", CommandLine: fmt.Sprintf("powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA%d", i*31),
			SHA1: fmt.Sprintf("%040x", i*2654435761), PID: 4000 + i*13,
		})
		if b, _ := json.Marshal(events); len(b) >= size {
			break
		}
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(events)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func BenchmarkCodec(b *testing.B) {
	c := NewCodec(testRing(b))
	for _, size := range []int{1 << 10, 16 << 10} {
		p := typicalJSON(b, size)
		ps := []*commonpb.Payload{p}
		b.Run(fmt.Sprintf("Encode/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(p.Data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Encode(ps); err != nil {
					b.Fatal(err)
				}
			}
		})
		enc, err := c.Encode(ps)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("Decode/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(p.Data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Decode(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
