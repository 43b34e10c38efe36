package rbac

// pathLists keeps many short lists of paths (a who-can's per subject, a
// what-can's per rule) in fixed chunks, and writes each out once at the
// end into one array: appending thousands of 200-byte paths to slices that
// grow copied them several times over, and that was most of the heaviest
// queries' time.
type pathLists struct {
	held [][]Path
	next []int32 // held's successor in its list; -1 ends it
}

// pathList is one list; the zero value is empty.
type pathList struct {
	head, tail int32
	n          int32
}

const pathChunk = 1024

func (l *pathLists) at(h int32) *Path { return &l.held[h/pathChunk][h%pathChunk] }

// add appends p to list.
func (l *pathLists) add(list *pathList, p Path) {
	h := int32(len(l.next))
	if h%pathChunk == 0 {
		// The first chunk grows as a slice does (most answers are
		// short); the others are whole from the start.
		c := pathChunk
		if h == 0 {
			c = 16
		}
		l.held = append(l.held, make([]Path, 0, c))
	}
	l.held[len(l.held)-1] = append(l.held[len(l.held)-1], p)
	l.next = append(l.next, -1)
	if list.n == 0 {
		list.head = h
	} else {
		l.next[list.tail] = h
	}
	list.tail = h
	list.n++
}

// writer returns a function writing a list out as a slice of one array
// that holds every path added.
func (l *pathLists) writer() func(pathList) []Path {
	all := make([]Path, 0, len(l.next))
	return func(list pathList) []Path {
		start := len(all)
		for h, i := list.head, int32(0); i < list.n; h, i = l.next[h], i+1 {
			all = append(all, *l.at(h))
		}
		return all[start:len(all):len(all)]
	}
}
