"""Exercises and grading.

Students: ``from course_lib.grading import check`` then ``check("softmax")`` in an exercise
notebook runs the public tests on your live code; ``progress()`` runs them for every exercise
notebook you have and prints what is left.

Instructors: the ``course-grade`` command (``python -m course_lib.grading``); see cli.py.
Test authors: ``course_lib.grading.spec`` (``@test``, ``expect_close``, ``Fail``).
"""
from .check import check, needs_exercise  # noqa: F401
from .progress import progress  # noqa: F401
from .sandbox import TensorArg  # noqa: F401
from .spec import Fail, expect, expect_close, test  # noqa: F401
