import numpy as np
import pytest

import slotdiff


def test_encode_decode_round_trip(vocab):
    ids = vocab.encode("The quick brown fox, well-known, jumps.")
    assert ids.dtype == np.int32
    assert vocab.decode(ids) == "the quick brown fox, well-known, jumps."
    assert [vocab.word(int(i)) for i in ids[:3]] == ["the", "quick", "brown"]
    assert vocab.find("the") == ids[0] and vocab.find("not-a-word-xyz") is None
    assert (slotdiff.Tokenizer.pad, slotdiff.Tokenizer.unk, slotdiff.Tokenizer.root, slotdiff.Tokenizer.none) == (0, 1, 2, 3)


def test_batches_equal_one_at_a_time(vocab, lines):
    ids, offsets = vocab.encode_batch(lines[:50])
    assert offsets.dtype == np.int64 and len(offsets) == 51 and offsets[-1] == len(ids)
    for i, l in enumerate(lines[:50]):
        assert np.array_equal(ids[offsets[i]:offsets[i + 1]], vocab.encode(l))
    texts = vocab.decode_batch(ids, offsets)
    assert texts == [vocab.decode(vocab.encode(l)) for l in lines[:50]]
    assert vocab.decode_batch([vocab.encode(l) for l in lines[:3]]) == texts[:3]


def test_build_save_load(tmp_path):
    t = slotdiff.Tokenizer.build(["b a a", "c a b"], max_size=6)
    assert len(t) == 6 and t.words[4:] == ["a", "b"]
    t.save(str(tmp_path / "v.txt"))
    assert slotdiff.Tokenizer.load(str(tmp_path / "v.txt")).words == t.words


def test_bad_input_names_it(vocab, tmp_path):
    with pytest.raises(slotdiff.Error, match="invalid UTF-8"):
        vocab.encode_batch([b"ok", b"bad \xff byte"])
    with pytest.raises(TypeError, match="dtype float64 is not an integer dtype"):
        vocab.decode(np.array([1.0, 2.0]))
    with pytest.raises(slotdiff.Error, match="outside the vocabulary"):
        vocab.decode(np.array([10**8], np.int64))
    with pytest.raises(slotdiff.Error, match="cannot open"):
        slotdiff.Tokenizer.load(str(tmp_path / "missing.txt"))
