"""The lessons, in order: slug (the URL), title, and the one-line promise shown in the index."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lesson:
    number: int
    slug: str
    title: str
    summary: str


LESSONS = (
    Lesson(1, "cost-of-one-example", "The cost of one example",
           "Ten outputs against the answer we wanted: one number for how wrong the network is."),
    Lesson(2, "downhill-1d", "Downhill in one dimension",
           "Drop a ball on a curve with several valleys and let the slope decide each step."),
    Lesson(3, "downhill-2d", "Downhill in two dimensions",
           "A cost surface over two inputs, the arrow of steepest descent, and what it says "
           "about importance."),
    Lesson(4, "which-nudges-matter", "Which nudges matter",
           "The gradient of one example's cost for every first-layer weight, beside the weights."),
    Lesson(5, "random-noise", "Random noise",
           "Show it static or a blank page: it answers confidently anyway."),
    Lesson(6, "random-labels", "Memorising random labels",
           "Same images, shuffled labels: it still learns them, one by one, and learns nothing general."),
    Lesson(7, "many-valleys", "Many valleys, similar depth",
           "Several seeds end at almost the same accuracy with entirely different weights."),
    Lesson(8, "hidden-neurons", "What did the hidden neurons learn?",
           "The first layer's weight maps against the edges and loops we hoped for, and how they change."),
    Lesson(9, "mistakes", "The ones it gets wrong",
           "The test digits it misreads, most confident first, and the confusion matrix: cut it some slack."),
)
BY_SLUG = {lesson.slug: lesson for lesson in LESSONS}
