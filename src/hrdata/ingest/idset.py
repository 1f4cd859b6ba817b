"""A set of positive 32-bit ids kept as a sparse bitmap: memory grows with the id range used,
not with the number of rows read (8M dense ids take about 1 MB, a Python set about 500 MB)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

_BLOCK_BITS = 16
_BLOCK_MASK = (1 << _BLOCK_BITS) - 1
_BLOCK_BYTES = (1 << _BLOCK_BITS) // 8


class IdSet:
    """Membership and insertion of non-negative integers in O(1), without storing each one."""

    __slots__ = ("_blocks", "_count")

    def __init__(self, ids: Iterable[int] = ()) -> None:
        self._blocks: dict[int, bytearray] = {}
        self._count = 0
        for value in ids:
            self.add(value)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        block = self._blocks.get(value >> _BLOCK_BITS)
        if block is None:
            return False
        bit = value & _BLOCK_MASK
        return bool(block[bit >> 3] & (1 << (bit & 7)))

    def add(self, value: int) -> bool:
        """Add `value`; True when it was not there before."""
        block = self._blocks.get(value >> _BLOCK_BITS)
        if block is None:
            block = self._blocks[value >> _BLOCK_BITS] = bytearray(_BLOCK_BYTES)
        bit = value & _BLOCK_MASK
        byte, mask = bit >> 3, 1 << (bit & 7)
        if block[byte] & mask:
            return False
        block[byte] |= mask
        self._count += 1
        return True

    def discard(self, value: int) -> None:
        """Remove `value` if it is there."""
        if value in self:
            bit = value & _BLOCK_MASK
            self._blocks[value >> _BLOCK_BITS][bit >> 3] &= ~(1 << (bit & 7)) & 0xFF
            self._count -= 1

    def __iter__(self) -> Iterator[int]:
        for high, block in sorted(self._blocks.items()):
            for byte_index, byte in enumerate(block):
                if byte:
                    base = (high << _BLOCK_BITS) + (byte_index << 3)
                    yield from (base + bit for bit in range(8) if byte & (1 << bit))

    def __len__(self) -> int:
        return self._count
