# harness-golden: path=nanochat/report.py
"""A method that formats every section of a report itself."""


class Report:
    def render(self, run):  # expect: NC505
        """Markdown lines for the run summary, one per metric."""
        lines = []
        lines.append(f"metric_0: {run.get('metric_0')}")
        lines.append(f"metric_1: {run.get('metric_1')}")
        lines.append(f"metric_2: {run.get('metric_2')}")
        lines.append(f"metric_3: {run.get('metric_3')}")
        lines.append(f"metric_4: {run.get('metric_4')}")
        lines.append(f"metric_5: {run.get('metric_5')}")
        lines.append(f"metric_6: {run.get('metric_6')}")
        lines.append(f"metric_7: {run.get('metric_7')}")
        lines.append(f"metric_8: {run.get('metric_8')}")
        lines.append(f"metric_9: {run.get('metric_9')}")
        lines.append(f"metric_10: {run.get('metric_10')}")
        lines.append(f"metric_11: {run.get('metric_11')}")
        lines.append(f"metric_12: {run.get('metric_12')}")
        lines.append(f"metric_13: {run.get('metric_13')}")
        lines.append(f"metric_14: {run.get('metric_14')}")
        lines.append(f"metric_15: {run.get('metric_15')}")
        lines.append(f"metric_16: {run.get('metric_16')}")
        lines.append(f"metric_17: {run.get('metric_17')}")
        lines.append(f"metric_18: {run.get('metric_18')}")
        lines.append(f"metric_19: {run.get('metric_19')}")
        lines.append(f"metric_20: {run.get('metric_20')}")
        lines.append(f"metric_21: {run.get('metric_21')}")
        lines.append(f"metric_22: {run.get('metric_22')}")
        lines.append(f"metric_23: {run.get('metric_23')}")
        lines.append(f"metric_24: {run.get('metric_24')}")
        lines.append(f"metric_25: {run.get('metric_25')}")
        lines.append(f"metric_26: {run.get('metric_26')}")
        lines.append(f"metric_27: {run.get('metric_27')}")
        lines.append(f"metric_28: {run.get('metric_28')}")
        lines.append(f"metric_29: {run.get('metric_29')}")
        lines.append(f"metric_30: {run.get('metric_30')}")
        if run.get('flag_0'):
            lines.append('flag_0')
        if run.get('flag_1'):
            lines.append('flag_1')
        if run.get('flag_2'):
            lines.append('flag_2')
        if run.get('flag_3'):
            lines.append('flag_3')
        if run.get('flag_4'):
            lines.append('flag_4')
        if run.get('flag_5'):
            lines.append('flag_5')
        if run.get('flag_6'):
            lines.append('flag_6')
        if run.get('flag_7'):
            lines.append('flag_7')
        if run.get('flag_8'):
            lines.append('flag_8')
        if run.get('flag_9'):
            lines.append('flag_9')
        if run.get('flag_10'):
            lines.append('flag_10')
        if run.get('flag_11'):
            lines.append('flag_11')
        if run.get('flag_12'):
            lines.append('flag_12')
        if run.get('flag_13'):
            lines.append('flag_13')
        if run.get('flag_14'):
            lines.append('flag_14')
        if run.get('flag_15'):
            lines.append('flag_15')
        if run.get('flag_16'):
            lines.append('flag_16')
        if run.get('flag_17'):
            lines.append('flag_17')
        if run.get('flag_18'):
            lines.append('flag_18')
        if run.get('flag_19'):
            lines.append('flag_19')
        if run.get('flag_20'):
            lines.append('flag_20')
        if run.get('flag_21'):
            lines.append('flag_21')
        if run.get('flag_22'):
            lines.append('flag_22')
        if run.get('flag_23'):
            lines.append('flag_23')
        if run.get('flag_24'):
            lines.append('flag_24')
        if run.get('flag_25'):
            lines.append('flag_25')
        if run.get('flag_26'):
            lines.append('flag_26')
        if run.get('flag_27'):
            lines.append('flag_27')
        if run.get('flag_28'):
            lines.append('flag_28')
        if run.get('flag_29'):
            lines.append('flag_29')
        return lines
