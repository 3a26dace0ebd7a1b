package store

import "sort"

// ImageKey is the content key of the row's image: Image for a view row of an
// augmented extraction, else Key.
func (r Record) ImageKey() string {
	if r.Image != "" {
		return r.Image
	}
	return r.Key
}

// ViewGroups groups the items of s by image: groups[g] holds the indices (in
// s, as Read takes them) of one image's views, ordered by view index, so
// groups[g][0] is view 0 when the image has one. Images come in the order of
// their first item. A store without views gives one group per item.
func (s *Store) ViewGroups() [][]int {
	at := map[string]int{}
	var groups [][]int
	for i, p := range s.idx {
		k := s.c.recs[p].ImageKey()
		g, ok := at[k]
		if !ok {
			g = len(groups)
			at[k] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	for _, g := range groups {
		sort.SliceStable(g, func(a, b int) bool { return s.c.recs[s.idx[g[a]]].View < s.c.recs[s.idx[g[b]]].View })
	}
	return groups
}

// View0 returns a view of the un-augmented rows of s (view 0; every row of a
// store without views), sharing the chunk cache. Validation and evaluation
// read it.
func (s *Store) View0() *Store {
	v := &Store{c: s.c, idx: []int{}}
	for _, p := range s.idx {
		if s.c.recs[p].View == 0 {
			v.idx = append(v.idx, p)
		}
	}
	return v
}

// Views returns the number of views of the store's images: the largest view
// index plus one (1 for a store without views).
func (s *Store) Views() int {
	n := 0
	for _, p := range s.idx {
		n = max(n, s.c.recs[p].View)
	}
	return n + 1
}
