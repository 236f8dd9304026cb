"""The maths behind the lessons: NumPy only, no I/O and no web.

landscape: 1-D and 2-D functions with several valleys, their slopes, and gradient descent on them.
example: one example's cost digit by digit, and the gradient of that cost for every weight.
noise: images that are not digits (noise, blank) and what a network says about them.
"""
