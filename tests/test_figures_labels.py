"""figures.label_points: labels of crowded points end up without overlaps, near their points."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from course_lib.figures import label_points  # noqa: E402


def test_crowded_labels_do_not_overlap():
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(25, 2)) * 0.2                    # 25 points in a small cloud: raw labels would collide
    labels = [f"word{i}" for i in range(25)]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(*xy.T)
    ax.set_xlim(-2, 2)
    ax.set_ylim(-3, 3)
    fig.tight_layout()
    texts = label_points(ax, xy, labels)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(r) for t in texts]
    assert [t.get_text() for t in texts] == labels
    assert not any(boxes[i].overlaps(boxes[j]) for i in range(25) for j in range(i + 1, 25))
    assert ax.get_xlim() == (-2, 2) and ax.get_ylim() == (-3, 3)   # the joining lines did not rescale the axes
    plt.close(fig)


def test_naive_placement_would_overlap():
    """The test above can fail: the same points with labels at their points do collide."""
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(25, 2)) * 0.2
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.set_xlim(-2, 2)
    ax.set_ylim(-3, 3)
    fig.tight_layout()
    texts = [ax.text(x, y, f"word{i}", fontsize=9) for i, (x, y) in enumerate(xy)]
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(r) for t in texts]
    assert any(boxes[i].overlaps(boxes[j]) for i in range(25) for j in range(i + 1, 25))
    plt.close(fig)
