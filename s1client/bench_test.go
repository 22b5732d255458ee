package s1client

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Decoding a full page of 1000 threats (the API's maximum page) with the tolerant types.
func BenchmarkDecodeThreatsPage(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "threats_page.json"))
	if err != nil {
		b.Fatal(err)
	}
	var page struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &page); err != nil || len(page.Data) == 0 {
		b.Fatalf("testdata: %v", err)
	}
	items := make([]string, 1000)
	for i := range items {
		items[i] = string(page.Data[i%len(page.Data)])
	}
	body := []byte(`{"data":[` + strings.Join(items, ",") + `],"pagination":{"nextCursor":null,"totalItems":1000}}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var env envelope[[]Threat]
		if err := json.Unmarshal(body, &env); err != nil {
			b.Fatal(err)
		}
	}
}
