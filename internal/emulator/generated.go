package emulator

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"

	"github.com/teamslink/teamslink/internal/emulator/query"
)

// genSet is one scenario generator's rows, computed on demand: row n
// (1-based) is a pure function of the environment URL, the generator's
// index and n, so a million rows cost no memory until a request reads them,
// and a count is O(1). Rows a write touches are kept in over (and in the
// table's byID), deleted ones in gone; a set with either falls back to
// evaluating row by row.
type genSet struct {
	et      *entityType
	url     string // the environment URL the ids derive from
	index   string // the generator's index in the scenario
	count   int
	consts  row            // column values shared by every row
	vary    map[string]any // columns whose value contains {n}: raw template value
	version int64          // versionnumber of row 1 (row n: version+n-1); 0 = fixed in consts
	over    map[int]row
	gone    map[int]bool
}

// id is the primary key of row n.
func (g *genSet) id(n int) string {
	return derivedGUID(g.url, g.et.set, g.index, strconv.Itoa(n))
}

// varies reports whether a column's value differs from row to row.
func (g *genSet) varies(name string) bool {
	if name == g.et.key || (name == "versionnumber" && g.version != 0) {
		return true
	}
	_, ok := g.vary[name]
	return ok
}

// row materialises row n, as written if a write touched it.
func (g *genSet) row(n int) row {
	if r, ok := g.over[n]; ok {
		return r
	}
	r := make(row, len(g.consts)+len(g.vary)+2)
	for k, v := range g.consts {
		r[k] = v
	}
	ns := strconv.Itoa(n)
	for k, v := range g.vary {
		c, _ := g.et.column(k)
		cv, _ := convertValue(c, strings.ReplaceAll(v.(string), "{n}", ns))
		r[k] = cv
	}
	r[g.et.key] = g.id(n)
	if g.version != 0 {
		r["versionnumber"] = g.version + int64(n) - 1
	}
	return r
}

// touched reports whether a write changed or removed any row.
func (g *genSet) touched() bool { return len(g.over) > 0 || len(g.gone) > 0 }

// find returns the n of the row with id, or 0. It hashes every row's id
// parts (derivedGUID without the formatting): a linear scan, for the rare
// request that names a generated row. Ids the set cannot hold (derivedGUID
// makes version 5 GUIDs) return at once.
func (g *genSet) find(id string) int {
	want, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
	if len(id) != 36 || id[14] != '5' || err != nil || len(want) != 16 {
		return 0
	}
	buf := []byte(strings.Join([]string{g.url, g.et.set, g.index, ""}, "\x00"))
	prefix := len(buf)
	for n := 1; n <= g.count; n++ {
		buf = strconv.AppendInt(buf[:prefix], int64(n), 10)
		h := sha1.Sum(buf)
		h[6] = (h[6] & 0x0f) | 0x50
		h[8] = (h[8] & 0x3f) | 0x80
		if bytes.Equal(h[:16], want) && !g.gone[n] {
			return n
		}
	}
	return 0
}

func (g *genSet) clone() *genSet {
	c := *g
	c.over = make(map[int]row, len(g.over))
	for n, r := range g.over {
		c.over[n] = copyRow(r)
	}
	c.gone = make(map[int]bool, len(g.gone))
	for n := range g.gone {
		c.gone[n] = true
	}
	return &c
}

func copyRow(r row) row {
	cp := make(row, len(r))
	for k, v := range r {
		cp[k] = v
	}
	return cp
}

// newGenSet builds generator gi of an environment; it reports the number
// of version numbers the rows take (0 when the template fixes one).
func newGenSet(env *envState, et *entityType, gi int, g Generator) (*genSet, error) {
	gs := &genSet{et: et, url: env.url, index: strconv.Itoa(gi), count: g.Count, consts: row{}, vary: map[string]any{}}
	for _, c := range et.columns {
		gs.consts[c.name] = c.def
	}
	for k, v := range g.Row {
		if _, isNav := et.navs[k]; isNav {
			continue
		}
		c, _ := et.column(k)
		if s, ok := v.(string); ok && strings.Contains(s, "{n}") {
			// Checked once here; row n converts its own value.
			if _, err := convertValue(c, strings.ReplaceAll(s, "{n}", "1")); err != nil {
				return nil, err
			}
			gs.vary[k] = s
			delete(gs.consts, k)
			continue
		}
		cv, err := convertValue(c, v)
		if err != nil {
			return nil, err
		}
		gs.consts[k] = cv
	}
	delete(gs.consts, et.key)
	return gs, nil
}

// rowSeq is a query's result in order: runs of concrete rows and whole
// generated sets, materialised only for the page served.
type rowSeq struct {
	parts []seqPart
	n     int
}

type seqPart struct {
	rows []row
	gen  *genSet // when set, every row of gen (untouched) in order
}

func (p seqPart) len() int {
	if p.gen != nil {
		return p.gen.count
	}
	return len(p.rows)
}

func (s *rowSeq) addRows(rows ...row) {
	if len(rows) == 0 {
		return
	}
	if k := len(s.parts); k > 0 && s.parts[k-1].gen == nil {
		s.parts[k-1].rows = append(s.parts[k-1].rows, rows...)
	} else {
		s.parts = append(s.parts, seqPart{rows: append([]row(nil), rows...)})
	}
	s.n += len(rows)
}

func (s *rowSeq) addGen(g *genSet) {
	s.parts = append(s.parts, seqPart{gen: g})
	s.n += g.count
}

func seqOf(rows []row) rowSeq {
	var s rowSeq
	s.addRows(rows...)
	return s
}

// slice materialises rows [from, to).
func (s rowSeq) slice(from, to int) []row {
	out := make([]row, 0, max(to-from, 0))
	base := 0
	for _, p := range s.parts {
		n := p.len()
		lo, hi := max(from-base, 0), min(to-base, n)
		for i := lo; i < hi; i++ {
			if p.gen != nil {
				out = append(out, p.gen.row(i+1))
			} else {
				out = append(out, p.rows[i])
			}
		}
		base += n
		if base >= to {
			break
		}
	}
	return out
}

// all materialises every row (for small results and fallbacks).
func (s rowSeq) all() []row { return s.slice(0, s.n) }

// seqItem is one unit of the stable sort: a concrete row or a whole
// generated set whose order keys are shared by all its rows.
type seqItem struct {
	r   row
	gen *genSet
}

// traced evaluates a filter and reports whether it read only names for
// which ok is true. Filter evaluation is deterministic in the values it
// reads, so a result that read only columns a generated set shares holds
// for every row of that set.
func traced(f *query.Filter, r row, ok func(string) bool) (match, shared bool) {
	shared = true
	match = f.Match(func(name string) any {
		if !ok(name) {
			shared = false
		}
		return r[name]
	})
	return match, shared
}

// applyTable filters and orders the table's rows, keeping untouched generated
// sets whole when the filter and $orderby read only their shared columns.
func (q *dvQuery) applyTable(t *table) rowSeq {
	if len(t.gens) == 0 {
		return seqOf(q.apply(t.rows))
	}
	var items []seqItem
	add := func(rows []row) {
		for _, r := range rows {
			if q.filter == nil || q.filter.Match(getter(r)) {
				items = append(items, seqItem{r: r})
			}
		}
	}
	add(t.rows)
	for _, g := range t.gens {
		sharedOrder := true
		for _, o := range q.order {
			sharedOrder = sharedOrder && !g.varies(o.Name)
		}
		if !g.touched() && sharedOrder {
			rep := g.row(1)
			match, shared := true, true
			if q.filter != nil {
				// A column that varies is never null (a key, a version,
				// a string with {n}), so a null test reads it as shared.
				match, shared = traced(q.filter, rep, func(n string) bool { return !g.varies(n) || q.filter.NullTestsOnly(n) })
			}
			if shared {
				if match {
					items = append(items, seqItem{r: rep, gen: g})
				}
				continue
			}
		}
		for n := 1; n <= g.count; n++ {
			if g.gone[n] {
				continue
			}
			add([]row{g.row(n)})
		}
	}
	add(t.tail)
	if len(q.order) > 0 {
		sort.SliceStable(items, func(i, j int) bool { return rowLess(items[i].r, items[j].r, q.order) })
	}
	var s rowSeq
	for _, it := range items {
		if it.gen != nil {
			s.addGen(it.gen)
		} else {
			s.addRows(it.r)
		}
	}
	return s
}

// applyTo is the table as a dvCollection source.
func (t *table) applyTo(q *dvQuery) rowSeq { return q.applyTable(t) }

// seqSource is a list of concrete rows as a dvCollection source.
func seqSource(rows []row) func(*dvQuery) rowSeq {
	return func(q *dvQuery) rowSeq { return seqOf(q.apply(rows)) }
}
