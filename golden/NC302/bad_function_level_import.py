# harness-golden: path=harness/research/proposers.py
"""A lazy import is still a dependency; only an ImportError guard makes it optional."""


def propose_with_openai(prompt):
    import openai  # expect: NC302

    return openai.OpenAI().responses.create(input=prompt)


def propose_with_pandas(rows):
    from pandas import DataFrame  # expect: NC302

    return DataFrame(rows)
