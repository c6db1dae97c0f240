#!/usr/bin/env python3
"""Makes a Mach-O executable's LC_UUID a function of its contents, and re-hashes the code pages
of its ad-hoc signature to match.

Zig's Mach-O linker (cargo-zigbuild, for the macOS targets) hashes the file to make the UUID,
but the hash covers the UUID field before it is written, which holds whatever the memory held:
two links of the same objects differ in those 16 bytes (and, on arm64, in the signature's hash
of the page that holds them) and nowhere else. Here the UUID is the first 16 bytes of the
SHA-256 of the file with the UUID zeroed (up to the signature), marked as a name-based UUID,
and every code slot of the signature's CodeDirectory is hashed again. An ad-hoc signature has
no CMS blob that signs the CodeDirectory, so nothing else changes.

    usage: release/macho-uuid.py BINARY     (rewritten in place; prints the new UUID)
"""

import hashlib
import struct
import sys

MH_MAGIC_64 = 0xFEEDFACF
LC_UUID = 0x1B
LC_CODE_SIGNATURE = 0x1D
CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CS_HASHTYPE_SHA256 = 2


def load_commands(data):
    magic, _cpu, _sub, _ftype, ncmds, _size = struct.unpack_from("<IiiIII", data, 0)
    if magic != MH_MAGIC_64:
        sys.exit("macho-uuid: not a 64-bit little-endian Mach-O file")
    offset = 32
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, offset)
        yield cmd, offset
        offset += size


def code_directories(data, sig_off):
    magic, _length, count = struct.unpack_from(">III", data, sig_off)
    if magic != CSMAGIC_EMBEDDED_SIGNATURE:
        sys.exit("macho-uuid: the code signature is not an embedded signature")
    for i in range(count):
        _slot, blob = struct.unpack_from(">II", data, sig_off + 12 + 8 * i)
        if struct.unpack_from(">I", data, sig_off + blob)[0] == CSMAGIC_CODEDIRECTORY:
            yield sig_off + blob


def rehash(data, cd):
    (_magic, _length, _version, _flags, hash_off, _ident, _nspecial, ncode, limit, hash_size,
     hash_type, _platform, page_log2) = struct.unpack_from(">IIIIIIIIIBBBB", data, cd)
    if hash_type != CS_HASHTYPE_SHA256 or hash_size != 32:
        sys.exit(f"macho-uuid: code directory hash type {hash_type} is not SHA-256")
    page = 1 << page_log2
    for i in range(ncode):
        start = i * page
        digest = hashlib.sha256(data[start:min(start + page, limit)]).digest()
        at = cd + hash_off + i * hash_size
        data[at:at + hash_size] = digest


def main(path):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    uuid_at = None
    end = len(data)
    for cmd, offset in load_commands(data):
        if cmd == LC_UUID:
            uuid_at = offset + 8
        elif cmd == LC_CODE_SIGNATURE:
            end = struct.unpack_from("<I", data, offset + 8)[0]
    if uuid_at is None:
        sys.exit("macho-uuid: no LC_UUID")
    data[uuid_at:uuid_at + 16] = bytes(16)
    uuid = bytearray(hashlib.sha256(data[:end]).digest()[:16])
    uuid[6] = (uuid[6] & 0x0F) | 0x50  # version 5: name-based
    uuid[8] = (uuid[8] & 0x3F) | 0x80  # RFC 4122 variant
    data[uuid_at:uuid_at + 16] = uuid
    if end < len(data):
        for cd in code_directories(data, end):
            rehash(data, cd)
    with open(path, "wb") as f:
        f.write(data)
    print(uuid.hex())


if __name__ == "__main__":
    main(sys.argv[1])
