"""Unit tests of the parts of rctune_analysis that need no trace (tests/apps/test_plot.cpp runs
them, and runs `rctune plot` on real traces):

    PYTHONPATH=python /usr/bin/python3 -m unittest discover -s python/tests
"""

import unittest

import numpy as np

from rctune_analysis.plot import Names, slug, split_task_list
from rctune_analysis.tree_dot import ancestry, dot_quoted, select_nodes

TREE_DTYPE = [("id", "<i8"), ("parent", "<i8"), ("visits", "<i8")]


class TaskListTest(unittest.TestCase):
    def test_a_name_with_commas_is_one_task(self):
        known = {"matmul:M=64,N=64,K=64", "softmax_8"}
        self.assertEqual(split_task_list("matmul:M=64,N=64,K=64,softmax_8", known), ["matmul:M=64,N=64,K=64", "softmax_8"])

    def test_an_unknown_piece_stays_alone_so_that_it_can_be_named(self):
        self.assertEqual(split_task_list("nope,softmax_8", {"softmax_8"}), ["nope", "softmax_8"])


class FileNameTest(unittest.TestCase):
    def test_a_slug_keeps_only_safe_characters(self):
        self.assertEqual(slug("../matmul:M=1 $(x)"), "matmul_M_1___x")

    def test_clashing_names_get_a_number(self):
        names = Names("/out", "png")
        self.assertEqual(names.path("a"), "/out/a.png")
        self.assertEqual(names.path("a"), "/out/a~2.png")
        self.assertEqual(names.path("a", "dot"), "/out/a.dot")


class DotTest(unittest.TestCase):
    def test_quotes_backslashes_and_control_characters_cannot_leave_the_string(self):
        self.assertEqual(dot_quoted('a"b\\c\nd\x07'), '"a\\"b\\\\c\\nd "')

    def test_a_cycle_of_parents_ends(self):
        self.assertEqual(ancestry({1: 2, 2: 1}, 1), [1, 2])

    def test_the_most_visited_nodes_come_with_their_ancestors(self):
        tree = np.array([(0, -1, 10), (1, 0, 1), (2, 0, 8), (3, 2, 7), (4, 1, 9)], dtype=TREE_DTYPE)
        self.assertEqual(select_nodes(tree, None, 3), {0, 1, 4})
        self.assertEqual(select_nodes(tree, 3, 3), {0, 2, 3})


if __name__ == "__main__":
    unittest.main()
