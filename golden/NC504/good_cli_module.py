# harness-golden: path=harness/cli.py
"""The CLI module is where printing belongs."""


def show_rules(rules):
    for rule in rules:
        print(rule)


def print_summary(report):
    print(report)
