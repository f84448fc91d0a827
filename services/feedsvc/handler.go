// Package feedsvc wires the feed world to NATS and turns its pushes into
// messages already in WebSocket form.
package feedsvc

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"chirp/contract"
	"chirp/services/feed"
	"chirp/services/loop"
)

// handler steps the feed world; it runs on the loop goroutine.
type handler struct {
	w *feed.World
	// subjects caches each account's push subject: a fan-out then builds
	// no strings.
	subjects map[string]string
}

// pushSubject returns the push subject of the account with key.
func (h *handler) pushSubject(key string) string {
	s, ok := h.subjects[key]
	if !ok {
		if h.subjects == nil {
			h.subjects = make(map[string]string)
		}
		s = contract.Subject(contract.PushPrefix, key)
		h.subjects[key] = s
	}
	return s
}

func (h *handler) Handle(m *loop.Msg, out *loop.Out) error {
	in, err := decode(m)
	if err != nil {
		return err
	}
	for _, e := range h.w.Step(in) {
		switch e := e.(type) {
		case feed.Respond:
			if err := out.Reply(e.To, e.Body); err != nil {
				return err
			}
		case feed.PushTweet:
			if err := h.pushTweet(e, out); err != nil {
				return err
			}
		case feed.PushLikes:
			h.pushLikes(e, out)
		case feed.Replay:
			rep := contract.ResumeReply{OK: true, Seq: e.Seq, Gap: e.Gap, Pushes: make([]json.RawMessage, 0, len(e.Pushes))}
			for _, p := range e.Pushes {
				f, err := pushFrame(p)
				if err != nil {
					return err
				}
				rep.Pushes = append(rep.Pushes, f)
			}
			if err := out.Reply(e.To, rep); err != nil {
				return err
			}
		}
	}
	return nil
}

// pushTweet encodes a tweet push for every recipient: the tweet once, then
// one frame per recipient with its seq, appended to the out's buffer.
func (h *handler) pushTweet(e feed.PushTweet, out *loop.Out) error {
	tw, err := json.Marshal(e.Tweet)
	if err != nil {
		return fmt.Errorf("encode push: %w", err)
	}
	for i, key := range e.Keys {
		out.SendBuf(h.pushSubject(key), appendTweetPush(out.Buf(), e.Seqs[i], tw))
	}
	return nil
}

// pushLikes encodes a like-count push for every recipient.
func (h *handler) pushLikes(e feed.PushLikes, out *loop.Out) {
	id, _ := json.Marshal(e.Tweet)
	for i, key := range e.Keys {
		out.SendBuf(h.pushSubject(key), appendLikesPush(out.Buf(), e.Seqs[i], id, e.Likes))
	}
}

func decode(m *loop.Msg) (feed.Input, error) {
	meta := feed.Meta{Seq: m.Seq, At: m.At, Reply: m.Reply}
	switch {
	case strings.HasPrefix(m.Subject, contract.EvtTweetPosted+"."):
		var e contract.TweetPosted
		if err := json.Unmarshal(m.Data, &e); err != nil {
			return nil, fmt.Errorf("decode tweet posted: %w", err)
		}
		return feed.Posted{Meta: meta, Tweet: e.Tweet}, nil
	case strings.HasPrefix(m.Subject, contract.EvtTweetLiked+"."):
		var e contract.TweetLiked
		if err := json.Unmarshal(m.Data, &e); err != nil {
			return nil, fmt.Errorf("decode tweet liked: %w", err)
		}
		return feed.Liked{Meta: meta, Tweet: e.Tweet, Likes: e.Likes, By: e.By}, nil
	case strings.HasPrefix(m.Subject, contract.EvtUserFollowed+"."):
		var e contract.UserFollowed
		if err := json.Unmarshal(m.Data, &e); err != nil {
			return nil, fmt.Errorf("decode user followed: %w", err)
		}
		return feed.Followed{Meta: meta, Follower: e.Follower, Followee: e.Followee}, nil
	case strings.HasPrefix(m.Subject, contract.EvtPresence+"."):
		var e contract.Presence
		if err := json.Unmarshal(m.Data, &e); err != nil {
			return nil, fmt.Errorf("decode presence: %w", err)
		}
		return feed.Presence{Meta: meta, Handle: e.Handle, Gateway: e.Gateway, Online: e.Online}, nil
	case strings.HasPrefix(m.Subject, contract.EvtGatewayStarted+"."):
		var e contract.GatewayStarted
		if err := json.Unmarshal(m.Data, &e); err != nil {
			return nil, fmt.Errorf("decode gateway started: %w", err)
		}
		return feed.GatewayStarted{Meta: meta, Gateway: e.Gateway}, nil
	case m.Subject == contract.SubjResume:
		var r contract.ResumeRequest
		if err := json.Unmarshal(m.Data, &r); err != nil {
			return nil, fmt.Errorf("decode resume: %w", err)
		}
		return feed.Resume{Reply: m.Reply, User: r.User, Since: r.Since}, nil
	case m.Subject == contract.SubjFeed:
		var r contract.FeedRequest
		if err := json.Unmarshal(m.Data, &r); err != nil {
			return nil, fmt.Errorf("decode feed read: %w", err)
		}
		return feed.Read{Reply: m.Reply, User: r.User, Limit: r.Limit, Before: r.Before}, nil
	}
	return nil, fmt.Errorf("unexpected subject %s", m.Subject)
}

// appendTweetPush and appendLikesPush append push frames to b; live pushes
// and replayed ones are the same bytes.
func appendTweetPush(b []byte, seq uint64, tweetJSON []byte) []byte {
	b = append(b, `{"push":"tweet","seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"tweet":`...)
	b = append(b, tweetJSON...)
	return append(b, '}')
}

func appendLikesPush(b []byte, seq uint64, idJSON []byte, likes int) []byte {
	b = append(b, `{"push":"likes","seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"tweet":`...)
	b = append(b, idJSON...)
	b = append(b, `,"likes":`...)
	b = strconv.AppendInt(b, int64(likes), 10)
	return append(b, '}')
}

func pushFrame(p contract.PushRecord) ([]byte, error) {
	switch p.Kind {
	case contract.PushTweet:
		tw, err := json.Marshal(p.Tweet)
		if err != nil {
			return nil, fmt.Errorf("encode replayed push: %w", err)
		}
		return appendTweetPush(make([]byte, 0, len(tw)+48), p.Seq, tw), nil
	case contract.PushLikes:
		id, _ := json.Marshal(p.TweetID)
		return appendLikesPush(make([]byte, 0, len(id)+64), p.Seq, id, p.Likes), nil
	}
	return nil, fmt.Errorf("replayed push of unknown kind %q", p.Kind)
}

// Snapshot and Restore let the loop save and load the world.
func (h *handler) Snapshot() ([]byte, error) { return h.w.Snapshot() }

// Capture lets the loop encode the feed world's snapshot off its goroutine.
func (h *handler) Capture() func() ([]byte, error) { return h.w.Capture() }

func (h *handler) Restore(b []byte) error { return h.w.Restore(b) }
