package user

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"sort"

	"chirp/contract"
)

// snapshot is the encoded form of a World; slices are sorted so equal
// worlds encode to equal bytes.
type snapshot struct {
	Accounts []snapAccount
	Known    []string // handles of accounts owned elsewhere
}

type snapAccount struct {
	Handle    string
	Hash      string
	Following []string
	Request   string
}

// Snapshot encodes the whole state.
func (w *World) Snapshot() ([]byte, error) {
	var s snapshot
	for _, a := range w.accounts {
		sa := snapAccount{Handle: a.handle, Hash: a.hash, Request: a.request, Following: make([]string, 0, len(a.following))}
		for k := range a.following {
			sa.Following = append(sa.Following, k)
		}
		sort.Strings(sa.Following)
		s.Accounts = append(s.Accounts, sa)
	}
	sort.Slice(s.Accounts, func(i, j int) bool { return s.Accounts[i].Handle < s.Accounts[j].Handle })
	for _, h := range w.known {
		s.Known = append(s.Known, h)
	}
	sort.Strings(s.Known)
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(s); err != nil {
		return nil, fmt.Errorf("encode user snapshot: %w", err)
	}
	return buf.Bytes(), nil
}

// Restore replaces the state with a snapshot's. On error the world is
// unchanged.
func (w *World) Restore(b []byte) error {
	var s snapshot
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&s); err != nil {
		return fmt.Errorf("decode user snapshot: %w", err)
	}
	n := NewPartition(w.part)
	for _, h := range s.Known {
		n.known[contract.Key(h)] = h
	}
	for _, sa := range s.Accounts {
		a := &account{handle: sa.Handle, hash: sa.Hash, request: sa.Request, following: make(map[string]struct{}, len(sa.Following))}
		for _, k := range sa.Following {
			a.following[k] = struct{}{}
		}
		n.accounts[contract.Key(sa.Handle)] = a
	}
	*w = *n
	return nil
}
