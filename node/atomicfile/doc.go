// Package atomicfile replaces a file whole or not at all: a crash or a
// power cut at any moment leaves either the old file or the new one, never
// a torn one, and once Write returns the new file survives a power cut.
//
// The new bytes go to a temporary file in the same folder (a rename is
// atomic only within one file system), which is synced and closed, then
// renamed over the old file; the folder is synced last so that the rename
// itself is on disk. On any failure the temporary file is removed and the
// old file is left as it was.
package atomicfile
