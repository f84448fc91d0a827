// Package contract is Chirp's public contract: NATS subject names, the JSON
// payloads carried on them, error codes and the validation rules every
// component applies. It has no dependencies so that services, the gateway
// and tools can share it without sharing anything else.
//
// Subjects fall into four families:
//
//   - chirp.<svc>.<op>          request endpoints (core NATS request/reply);
//   - chirp.cmd.<svc>.<op>.<key> commands stored in the CHIRP stream;
//   - chirp.evt.<svc>.<kind>.<key> events stored in the CHIRP stream;
//   - chirp.push.<account>      live pushes, already in WebSocket form.
//
// <key> and <account> are always a lower-cased handle, so a handle is a
// valid subject token by construction.
package contract
