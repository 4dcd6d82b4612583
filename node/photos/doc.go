// Package photos keeps a node's photos in its data folder: content
// addressed (a photo's id is the SHA-256 of its full image's bytes), each
// file sealed with a key derived from the node's, written whole or not at
// all and durable once Add returns.
//
// Add takes a JPEG or PNG, bounded before a pixel is decoded (MaxFileBytes,
// MaxPixels from the header), turns it upright by its EXIF orientation,
// shrinks it to a full image and a thumbnail (JPEG) and keeps the original
// only when configured to. A budget bounds the folder: originals go first,
// then full images headquarters confirmed, never a thumbnail. Photos are
// read by offset (ReadAt) and received in pieces checked against their hash
// (Receive), for a peer to fetch them; a bundle carries them in a section
// of its own (WriteSection, ReadSection). docs/photos.md says why each
// choice was made.
//
// A Store's methods may run at once from several goroutines. Two processes
// on one folder each see the other's photos once written, as files are
// only ever renamed into place; the budget each enforces is the folder's.
package photos
