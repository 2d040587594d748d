// Checks Fieldproof's transparency-log output with Go's golang.org/x/mod
// sumdb/note and sumdb/tlog (Debian: golang-golang-x-mod-dev), an
// implementation nobody on the project wrote. Reads one JSON object on
// stdin (see TransparencyLogInteropTests) and prints "ok" or the first
// difference, exiting 1.
//
// Build offline in GOPATH mode:
//   GO111MODULE=off GOPATH=/usr/share/gocode go run scripts/interop/tlog_check.go < input.json
package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type input struct {
	// With URL set, the checkpoint and the tiles are read over HTTP from a
	// running log (<URL>/checkpoint, <URL>/tile/...), as any client would.
	URL         string            `json:"url"`
	VerifierKey string            `json:"verifierKey"`
	// With URL: cosigner keys (name+id+base64 of 0x04 and the key) of which
	// at least WitnessQuorum must have cosigned the served checkpoint.
	WitnessKeys   []string `json:"witnessKeys"`
	WitnessQuorum int      `json:"witnessQuorum"`
	Checkpoint  string            `json:"checkpoint"`
	Leaves      []string          `json:"leaves"` // hex
	Roots       map[string]string `json:"roots"`  // size -> base64
	Inclusion   []struct {
		Index int64       `json:"index"`
		Size  int64       `json:"size"`
		Proof []tlog.Hash `json:"proof"`
	} `json:"inclusion"`
	Consistency []struct {
		Old   int64       `json:"old"`
		New   int64       `json:"new"`
		Proof []tlog.Hash `json:"proof"`
	} `json:"consistency"`
	Tiles []struct {
		Level int    `json:"level"`
		Index int64  `json:"index"`
		Width int    `json:"width"`
		Data  []byte `json:"data"` // base64
	} `json:"tiles"`
}

func fail(format string, args ...interface{}) {
	fmt.Printf(format+"\n", args...)
	os.Exit(1)
}

func main() {
	var in input
	if err := json.NewDecoder(bufio.NewReader(os.Stdin)).Decode(&in); err != nil {
		fail("bad input: %v", err)
	}

	// The signed checkpoint, through note.Open with our verifier key.
	verifier, err := note.NewVerifier(in.VerifierKey)
	if err != nil {
		fail("note.NewVerifier refused %q: %v", in.VerifierKey, err)
	}
	if in.URL != "" {
		var witnesses []note.Verifier
		for _, key := range in.WitnessKeys {
			witness, err := newCosignatureVerifier(key)
			if err != nil {
				fail("witness key %q: %v", key, err)
			}
			witnesses = append(witnesses, witness)
		}
		checkServedLog(in.URL, verifier, witnesses, in.WitnessQuorum)
		return
	}
	opened, err := note.Open([]byte(in.Checkpoint), note.VerifierList(verifier))
	if err != nil {
		fail("note.Open refused the checkpoint: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(opened.Text, "\n"), "\n")
	if len(lines) < 3 {
		fail("checkpoint text has %d lines", len(lines))
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size %q: %v", lines[1], err)
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		fail("checkpoint root %q: %v", lines[2], err)
	}

	// Go's own tree over the same entries.
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, index := range indexes {
			out[i] = stored[index]
		}
		return out, nil
	})
	var data [][]byte
	for i, text := range in.Leaves {
		entry, err := hex.DecodeString(text)
		if err != nil {
			fail("leaf %d: %v", i, err)
		}
		data = append(data, entry)
		hashes, err := tlog.StoredHashes(int64(i), entry, reader)
		if err != nil {
			fail("StoredHashes %d: %v", i, err)
		}
		stored = append(stored, hashes...)
	}
	treeHash := func(n int64) tlog.Hash {
		h, err := tlog.TreeHash(n, reader)
		if err != nil {
			fail("TreeHash %d: %v", n, err)
		}
		return h
	}
	if size != int64(len(data)) || treeHash(size) != root {
		fail("checkpoint says size %d root %v; Go computes %v for %d entries", size, root, treeHash(int64(len(data))), len(data))
	}
	for text, want := range in.Roots {
		n, _ := strconv.ParseInt(text, 10, 64)
		if got := treeHash(n).String(); got != want {
			fail("root of %d entries: ours %s, Go's %s", n, want, got)
		}
	}

	for _, p := range in.Inclusion {
		if err := tlog.CheckRecord(p.Proof, p.Size, treeHash(p.Size), p.Index, tlog.RecordHash(data[p.Index])); err != nil {
			fail("CheckRecord(index %d, size %d) refused our proof: %v", p.Index, p.Size, err)
		}
		goProof, err := tlog.ProveRecord(p.Size, p.Index, reader)
		if err != nil || fmt.Sprint(goProof) != fmt.Sprint(p.Proof) {
			fail("inclusion proof of %d in %d: ours %v, Go's %v (%v)", p.Index, p.Size, p.Proof, goProof, err)
		}
	}
	for _, p := range in.Consistency {
		if err := tlog.CheckTree(p.Proof, p.New, treeHash(p.New), p.Old, treeHash(p.Old)); err != nil {
			fail("CheckTree(%d -> %d) refused our proof: %v", p.Old, p.New, err)
		}
		goProof, err := tlog.ProveTree(p.New, p.Old, reader)
		if err != nil || fmt.Sprint(goProof) != fmt.Sprint(p.Proof) {
			fail("consistency proof %d -> %d: ours %v, Go's %v (%v)", p.Old, p.New, p.Proof, goProof, err)
		}
	}
	// Tiles of height 8: the same hashes as C2SP tlog-tiles (only the URL paths differ).
	for _, t := range in.Tiles {
		tile := tlog.Tile{H: 8, L: t.Level, N: t.Index, W: t.Width}
		data, err := tlog.ReadTileData(tile, reader)
		if err != nil || !bytes.Equal(data, t.Data) {
			fail("tile level %d index %d width %d: ours differs from Go's (%v)", t.Level, t.Index, t.Width, err)
		}
	}
	fmt.Printf("ok: checkpoint, %d roots, %d inclusion and %d consistency proofs, %d tiles\n", len(in.Roots), len(in.Inclusion), len(in.Consistency), len(in.Tiles))
}

func get(url string) []byte {
	response, err := http.Get(url)
	if err != nil {
		fail("GET %s: %v", url, err)
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil || response.StatusCode != 200 {
		fail("GET %s: status %d %v", url, response.StatusCode, err)
	}
	return body
}

// tileReader fetches C2SP tiles: Go's paths carry the height
// (tile/8/L/N); C2SP's do not (tile/L/N).
type tileReader struct{ url string }

func (r tileReader) Height() int { return 8 }
func (r tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}
func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		out[i] = get(r.url + "/" + strings.Replace(t.Path(), "tile/8/", "tile/", 1))
	}
	return out, nil
}

// checkServedLog: the checkpoint opens under the verifier key; Go's
// TileHashReader, reading our tiles, computes the checkpoint's root and
// proves the first, middle and last entries; each entry bundle's entries
// hash to its level-0 tile.
func checkServedLog(url string, verifier note.Verifier, witnesses []note.Verifier, quorum int) {
	opened, err := note.Open(get(url+"/checkpoint"), note.VerifierList(append([]note.Verifier{verifier}, witnesses...)...))
	if err != nil {
		fail("note.Open refused the served checkpoint: %v", err)
	}
	// note.Open has verified every signature of a known key; count whose.
	logSigned, cosigned := false, []string{}
	for _, sig := range opened.Sigs {
		if sig.Name == verifier.Name() && sig.Hash == verifier.KeyHash() {
			logSigned = true
		}
		for _, witness := range witnesses {
			if sig.Name == witness.Name() && sig.Hash == witness.KeyHash() {
				cosigned = append(cosigned, sig.Name)
			}
		}
	}
	if !logSigned || len(cosigned) < quorum {
		fail("served checkpoint: signed by the log %v, cosigned by %v, %d cosignatures required", logSigned, cosigned, quorum)
	}
	lines := strings.Split(strings.TrimSuffix(opened.Text, "\n"), "\n")
	size, _ := strconv.ParseInt(lines[1], 10, 64)
	root, err := tlog.ParseHash(lines[2])
	if err != nil || size < 1 {
		fail("served checkpoint %q: %v", opened.Text, err)
	}
	tree := tlog.Tree{N: size, Hash: root}
	reader := tlog.TileHashReader(tree, tileReader{url})
	got, err := tlog.TreeHash(size, reader)
	if err != nil || got != root {
		fail("TreeHash over the served tiles: %v (%v), checkpoint says %v", got, err, root)
	}
	for _, index := range []int64{0, size / 2, size - 1} {
		proof, err := tlog.ProveRecord(size, index, reader)
		if err != nil {
			fail("ProveRecord(%d) from the served tiles: %v", index, err)
		}
		bundleIndex := index / 256
		width := size - bundleIndex*256
		path := fmt.Sprintf("%s/tile/entries/%s", url, strings.TrimPrefix(tlog.Tile{H: 8, L: 0, N: bundleIndex, W: 256}.Path(), "tile/8/0/"))
		if width < 256 {
			path = fmt.Sprintf("%s/tile/entries/%s", url, strings.TrimPrefix(tlog.Tile{H: 8, L: 0, N: bundleIndex, W: int(width)}.Path(), "tile/8/0/"))
		}
		bundle := get(path)
		var entry []byte
		for i, offset := int64(0), 0; offset+2 <= len(bundle); i++ {
			length := int(bundle[offset])<<8 | int(bundle[offset+1])
			if i == index%256 {
				entry = bundle[offset+2 : offset+2+length]
				break
			}
			offset += 2 + length
		}
		if err := tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(entry)); err != nil {
			fail("entry %d from the served bundle is not in the served tree: %v", index, err)
		}
	}
	fmt.Printf("ok: served checkpoint of %d entries, root and 3 inclusion proofs from the served tiles and bundles; cosigned by %d witness(es) %v\n", size, len(cosigned), cosigned)
}

// cosignatureVerifier checks c2sp.org/tlog-cosignature signatures
// (cosignature/v1, Ed25519): the key ID is SHA-256(name || 0x0A || 0x04 ||
// key)[:4], the signature an 8-byte big-endian timestamp followed by the
// Ed25519 signature of "cosignature/v1\ntime <T>\n" and the note text.
// Written here from the spec, apart from the Swift code it checks.
type cosignatureVerifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func newCosignatureVerifier(vkey string) (*cosignatureVerifier, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 || len(parts[1]) != 8 {
		return nil, fmt.Errorf("not name+hexid+base64")
	}
	hash, err := strconv.ParseUint(parts[1], 16, 32)
	if err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(key) != 1+ed25519.PublicKeySize || key[0] != 0x04 {
		return nil, fmt.Errorf("not an Ed25519 cosignature key (type 0x04)")
	}
	sum := sha256.Sum256(append(append([]byte(parts[0]), '\n'), key...))
	if binary.BigEndian.Uint32(sum[:4]) != uint32(hash) {
		return nil, fmt.Errorf("the key ID does not match the key")
	}
	return &cosignatureVerifier{name: parts[0], hash: uint32(hash), key: ed25519.PublicKey(key[1:])}, nil
}

func (v *cosignatureVerifier) Name() string    { return v.name }
func (v *cosignatureVerifier) KeyHash() uint32 { return v.hash }
func (v *cosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	time := binary.BigEndian.Uint64(sig[:8])
	if time == 0 {
		return false
	}
	signed := append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", time)), msg...)
	return ed25519.Verify(v.key, signed, sig[8:])
}
