package simulator

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/scenario"
)

// apiError is one entry of the v2.1 errors envelope.
type apiError struct {
	Code   int     `json:"code"`
	Detail *string `json:"detail"`
	Title  string  `json:"title"`
}

func validationError(format string, args ...any) apiError {
	d := fmt.Sprintf(format, args...)
	return apiError{Code: 4000010, Detail: &d, Title: "Validation Error"}
}

// query wraps URL parameters and collects validation errors, so one response
// can report every bad parameter.
type query struct {
	vals url.Values
	used map[string]bool
	errs []apiError
}

func newQuery(v url.Values) *query { return &query{vals: v, used: map[string]bool{}} }

// str returns the parameter (repeated values are joined like CSV).
func (q *query) str(name string) (string, bool) {
	q.used[name] = true
	vs, ok := q.vals[name]
	if !ok {
		return "", false
	}
	v := strings.Join(vs, ",")
	if strings.TrimSpace(v) == "" {
		// An empty filter is almost always a client bug; failing beats
		// silently returning everything.
		q.errs = append(q.errs, validationError("%s: Field may not be empty.", name))
		return "", false
	}
	return v, true
}

func (q *query) csv(name string) []string {
	v, ok := q.str(name)
	if !ok {
		return nil
	}
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func (q *query) ids(name string) map[string]bool {
	parts := q.csv(name)
	if parts == nil {
		return nil
	}
	out := make(map[string]bool, len(parts))
	for i, p := range parts {
		if !scenario.ValidID(p) {
			q.errs = append(q.errs, validationError("%s: %d: Not a valid integer.", name, i))
			return nil
		}
		out[p] = true
	}
	return out
}

func (q *query) enums(name string, allowed scenario.Enum) map[string]bool {
	parts := q.csv(name)
	if parts == nil {
		return nil
	}
	out := make(map[string]bool, len(parts))
	for i, p := range parts {
		if !allowed.Has(p) {
			q.errs = append(q.errs, validationError("%s: %d: Must be one of: %s.", name, i, allowed))
			return nil
		}
		out[p] = true
	}
	return out
}

func (q *query) boolean(name string) *bool {
	v, ok := q.str(name)
	if !ok {
		return nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		q.errs = append(q.errs, validationError("%s: Not a valid boolean.", name))
		return nil
	}
	return &b
}

func (q *query) intRange(name string, def, lo, hi int) int {
	v, ok := q.str(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		q.errs = append(q.errs, validationError("%s: Not a valid integer.", name))
		return def
	}
	if n < lo || n > hi {
		q.errs = append(q.errs, validationError("%s: Must be greater than or equal to %d and less than or equal to %d.", name, lo, hi))
		return def
	}
	return n
}

func (q *query) oneOf(name, def string, allowed ...string) string {
	v, ok := q.str(name)
	if !ok {
		return def
	}
	if !slices.Contains(allowed, v) {
		q.errs = append(q.errs, validationError("%s: Must be one of: %s.", name, strings.Join(allowed, ", ")))
		return def
	}
	return v
}

// timeRange reads <field>__gt|__gte|__lt|__lte into a predicate.
func (q *query) timeRange(field string) func(time.Time) bool {
	var checks []func(time.Time) bool
	for _, op := range []string{"gt", "gte", "lt", "lte"} {
		name := field + "__" + op
		v, ok := q.str(name)
		if !ok {
			continue
		}
		// A '+' offset arrives as a space when the client forgot to escape it.
		t, err := time.Parse(time.RFC3339Nano, strings.ReplaceAll(v, " ", "+"))
		if err != nil {
			q.errs = append(q.errs, validationError("%s: Not a valid datetime.", name))
			continue
		}
		switch op {
		case "gt":
			checks = append(checks, func(x time.Time) bool { return x.After(t) })
		case "gte":
			checks = append(checks, func(x time.Time) bool { return !x.Before(t) })
		case "lt":
			checks = append(checks, func(x time.Time) bool { return x.Before(t) })
		case "lte":
			checks = append(checks, func(x time.Time) bool { return !x.After(t) })
		}
	}
	return func(x time.Time) bool {
		for _, c := range checks {
			if !c(x) {
				return false
			}
		}
		return true
	}
}

// finish reports unknown parameters (a misspelt filter must not be ignored)
// and returns all errors sorted by parameter for stable output.
func (q *query) finish(ignored ...string) []apiError {
	for _, name := range ignored {
		q.used[name] = true
	}
	for _, name := range slices.Sorted(maps.Keys(q.vals)) {
		if !q.used[name] {
			q.errs = append(q.errs, validationError("%s: Unknown field.", name))
		}
	}
	return q.errs
}

// cursorData is what a cursor encodes: the position after the last item
// returned and the insertion snapshot of the first page. Keyset positioning
// plus the snapshot means objects added mid-iteration neither shift pages
// (no skips/duplicates) nor appear in it; they show up in the next iteration.
type cursorData struct {
	List   string `json:"l"`
	SortBy string `json:"sb"`
	Order  string `json:"so"`
	Key    string `json:"k"`
	ID     string `json:"id"`
	Snap   uint64 `json:"sn"`
}

const invalidCursor = "Invalid cursor value received"

func decodeCursor(raw, list, sortBy, order string) (*cursorData, error) {
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("decode cursor: %w", err)
	}
	var c cursorData
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("decode cursor: %w", err)
	}
	if c.List != list || c.SortBy != sortBy || c.Order != order || c.Snap == 0 {
		return nil, fmt.Errorf("cursor belongs to another listing or sort order")
	}
	return &c, nil
}

func (c cursorData) encode() string {
	b, _ := json.Marshal(c) // cannot fail: plain strings and ints
	return base64.StdEncoding.EncodeToString(b)
}

// listParams are the paging parameters common to all list endpoints.
type listParams struct {
	list      string
	limit     int
	skip      int
	countOnly bool
	skipCount bool
	sortBy    string
	order     string
	cursor    *cursorData
}

func parseListParams(q *query, list string, sortFields []string, defSort string) listParams {
	p := listParams{list: list}
	p.limit = q.intRange("limit", 10, 1, 1000)
	p.skip = q.intRange("skip", 0, 0, 1000)
	if b := q.boolean("countOnly"); b != nil {
		p.countOnly = *b
	}
	if b := q.boolean("skipCount"); b != nil {
		p.skipCount = *b
	}
	p.sortBy = q.oneOf("sortBy", defSort, sortFields...)
	p.order = q.oneOf("sortOrder", "asc", "asc", "desc")
	if raw, ok := q.str("cursor"); ok {
		c, err := decodeCursor(raw, list, p.sortBy, p.order)
		if err != nil {
			d := invalidCursor
			q.errs = append(q.errs, apiError{Code: 4000010, Detail: &d, Title: "Validation Error"})
		}
		p.cursor = c
	}
	return p
}

// row is one listable object with its sort key.
type row struct {
	key string // comparable string form of the sort value
	id  string // zero-padded so it sorts numerically
	seq uint64
	obj any
}

func timeKey(t time.Time) string { return fmt.Sprintf("%020d", t.UnixMicro()) }

// createdRow is the row of an object listed by createdAt (default) or id.
func createdRow(sortBy string, createdAt time.Time, id string, seq uint64, obj any) row {
	key := timeKey(createdAt)
	if sortBy == "id" {
		key = idKey(id)
	}
	return row{key: key, id: idKey(id), seq: seq, obj: obj}
}
func idKey(id string) string { return fmt.Sprintf("%020s", id) }

// paginate sorts, positions after the cursor, applies skip and limit, and
// renders the pagination object.
func paginate(rows []row, p listParams, currentSeq uint64) ([]any, map[string]any) {
	snap := currentSeq
	if p.cursor != nil {
		snap = p.cursor.Snap
	}
	rows = slices.DeleteFunc(rows, func(r row) bool { return r.seq > snap })
	less := func(a, b row) int {
		c := cmp.Or(strings.Compare(a.key, b.key), strings.Compare(a.id, b.id))
		if p.order == "desc" {
			return -c
		}
		return c
	}
	slices.SortFunc(rows, less)
	total := len(rows)
	start := 0
	if p.cursor != nil {
		pos := row{key: p.cursor.Key, id: p.cursor.ID}
		start, _ = slices.BinarySearchFunc(rows, pos, less)
		for start < len(rows) && less(rows[start], pos) <= 0 {
			start++
		}
	} else {
		// skip only positions the first page; the cursor carries position after it.
		start = min(p.skip, len(rows))
	}
	pagination := map[string]any{"nextCursor": nil, "totalItems": total}
	if p.skipCount {
		pagination["totalItems"] = nil
	}
	data := []any{}
	if p.countOnly {
		return data, pagination
	}
	end := min(start+p.limit, len(rows))
	for _, r := range rows[start:end] {
		data = append(data, r.obj)
	}
	if end < len(rows) && end > start {
		last := rows[end-1]
		pagination["nextCursor"] = cursorData{List: p.list, SortBy: p.sortBy, Order: p.order, Key: last.key, ID: last.id, Snap: snap}.encode()
	}
	return data, pagination
}
