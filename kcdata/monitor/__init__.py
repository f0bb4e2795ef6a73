"""Watching published data: freshness, content freshness, row counts, schema drift; alerts and history.

```python
from kcdata.monitor import monitor_program, notify, parse_target
report = monitor_program(root=root, inventory=inventory, client=client, last=history.last_observations(...))
```
"""

from __future__ import annotations

from kcdata.monitor.model import Check, CheckName, CheckStatus, DatasetMonitor, MonitorReport, Observation
from kcdata.monitor.notify import Delivery, notify, parse_target
from kcdata.monitor.run import monitor_program

__all__ = ["Check", "CheckName", "CheckStatus", "DatasetMonitor", "Delivery", "MonitorReport", "Observation",
           "monitor_program", "notify", "parse_target"]
