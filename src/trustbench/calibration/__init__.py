"""Per-run judge calibration: label a sample of a run's judged items, measure the judge on them.

    judged.py     the run's yes/no judge verdicts (samples.jsonl), one `JudgedItem` each
    audit.py      `trustbench judge audit`: a seeded, proportionate stratified sample (task x judge x
                  verdict) written as sheet.html (labelling page) and labels.jsonl
    sheet.py      renders the self-contained, CSP-locked labelling page
    labels.py     reads filled labels and checks them against the run (one-line errors)
    calibrate.py  `trustbench judge calibrate`: confusion matrix per judge with Wilson intervals,
                  recorded in manifest.json; results.json and the report re-adjusted with those rates
"""
