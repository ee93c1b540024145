"""The glossary (English ↔ the lecture's Chinese) links only to notebooks and headings that exist, and
notebooks/glossary.md is what course_lib.glossary generates."""
from course_lib import glossary


def test_every_linked_heading_exists():
    assert glossary.problems() == []


def test_every_term_has_chinese_and_a_place():
    stems = {p.stem for p in glossary.NOTEBOOKS.glob("[0-9][0-9]_*.py")}
    for english, chinese, stem, heading in glossary.TERMS:
        assert english and chinese and stem[:2].isdigit(), english
        if stem in stems:
            assert glossary.target(stem, heading) is not None, (english, stem, heading)
    assert len({e for e, *_ in glossary.TERMS}) == len(glossary.TERMS)


def test_glossary_file_is_generated():
    assert (glossary.NOTEBOOKS / "glossary.md").read_text(encoding="utf-8") == glossary.markdown(), \
        "notebooks/glossary.md is out of date: python -m course_lib.glossary write"


def test_jupyterlab_anchor():
    assert glossary.jupyterlab_anchor("The GRU, and where `nn.GRU` is not the lecture's GRU") == \
        "The-GRU,-and-where-nn.GRU-is-not-the-lecture's-GRU"
