package objstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// metaDir holds Dir's metadata sidecars. Its leading dot keeps it out of
// replays (which skip hidden folders) and out of List.
const metaDir = ".trailsight-meta"

// Dir is a Store in a local directory: the object with key k is the file
// root/k, and its metadata, when there is any, the JSON file
// root/.trailsight-meta/k.json. A copy of a bucket made with `aws s3 sync`
// reads as a Dir without metadata.
type Dir struct {
	root, name string
}

var _ Store = (*Dir)(nil)

// NewDir returns a Dir rooted at root that calls itself name in URLs and
// digests (the bucket it stands for); name defaults to root's base name.
func NewDir(root, name string) *Dir {
	if name == "" {
		name = filepath.Base(filepath.Clean(root))
	}
	return &Dir{root: root, name: name}
}

// Name returns the bucket name the Dir stands for.
func (d *Dir) Name() string { return d.name }

// Root returns the directory.
func (d *Dir) Root() string { return d.root }

func (d *Dir) path(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || slices.Contains(strings.Split(key, "/"), "..") ||
		strings.HasPrefix(key, metaDir+"/") {
		return "", fmt.Errorf("object key %q: not a key this directory store can hold", key)
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

// Put writes the object and its metadata, each through a temporary file and
// a rename. The metadata goes first: a crash between the two leaves at most
// a sidecar without an object, never an object with stale metadata.
func (d *Dir) Put(_ context.Context, key string, body []byte, meta map[string]string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	mp := filepath.Join(d.root, metaDir, filepath.FromSlash(key)) + ".json"
	if len(meta) > 0 {
		b, err := json.Marshal(meta)
		if err != nil {
			return fmt.Errorf("put %s: %w", p, err)
		}
		if err := WriteFileAtomic(mp, b); err != nil {
			return fmt.Errorf("put %s: metadata: %w", p, err)
		}
	} else if _, err := os.Lstat(mp); err == nil {
		if err := os.Remove(mp); err != nil {
			return fmt.Errorf("put %s: metadata: %w", p, err)
		}
	}
	if err := WriteFileAtomic(p, body); err != nil {
		return fmt.Errorf("put %s: %w", p, err)
	}
	return nil
}

// Get reads the object and its metadata.
func (d *Dir) Get(_ context.Context, key string) ([]byte, map[string]string, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, nil, err
	}
	body, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("get %s: %w", URL(d, key), ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get %s: %w", URL(d, key), err)
	}
	meta := map[string]string{}
	mb, err := os.ReadFile(filepath.Join(d.root, metaDir, filepath.FromSlash(key)) + ".json")
	switch {
	case err == nil:
		if err := json.Unmarshal(mb, &meta); err != nil {
			return nil, nil, fmt.Errorf("get %s: metadata: %w", URL(d, key), err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, nil, fmt.Errorf("get %s: metadata: %w", URL(d, key), err)
	}
	return body, meta, nil
}

// List walks the directory for the files under prefix. Hidden files and
// folders (temporary files, the metadata sidecars) are not objects.
func (d *Dir) List(_ context.Context, prefix, startAfter string) ([]string, error) {
	// Walk only the deepest folder that prefix names.
	base := prefix[:strings.LastIndexByte(prefix, '/')+1]
	start := filepath.Join(d.root, filepath.FromSlash(base))
	var keys []string
	err := filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == start {
				return fs.SkipAll
			}
			return err
		}
		if p != start && strings.HasPrefix(e.Name(), ".") {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if e.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		k := filepath.ToSlash(rel)
		if strings.HasPrefix(k, prefix) && k > startAfter {
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", URL(d, prefix), err)
	}
	slices.Sort(keys) // WalkDir's order is by path element, not by byte
	return keys, nil
}

// WriteFileAtomic writes path through a temporary file in the same folder
// and a rename, so that a crash of the process leaves the old file or the
// new one, never a part. It does not sync: see WriteFileDurable.
func WriteFileAtomic(path string, body []byte) error { return writeFile(path, body, false) }

// WriteFileDurable is WriteFileAtomic with the file synced before the
// rename, for what must survive a power loss once written (a spool, keys).
func WriteFileDurable(path string, body []byte) error { return writeFile(path, body, true) }

func writeFile(path string, body []byte, sync bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(body)
	if err == nil && sync {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
