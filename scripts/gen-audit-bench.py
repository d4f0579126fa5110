#!/usr/bin/env python3
"""Generate a large synthetic company for timing `credwarden audit` (not a realism simulator).

    python3 scripts/gen-audit-bench.py OUT_DIR [IDENTITIES]

Writes hr.csv (8% terminated, 10% contractors), report.csv (one IAM user per identity, two keys),
inventory.csv (one secret per identity: signing keys, API keys, shared secrets, SSH keys, read by a team
and two named people) and groups.csv (teams of 20). Deterministic (seeded).
"""
import os
import random
import sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
os.makedirs(out, exist_ok=True)
rnd = random.Random(42)
H = ("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,"
     "mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,"
     "access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
     "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n")


def day(y0=2019):
    return f"{rnd.randint(y0, 2025)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"


with open(f"{out}/hr.csv", "w") as f:
    f.write("id,emails,usernames,display_name,kind,status,start_date,end_date,manager,department\n")
    for i in range(n):
        term = rnd.random() < 0.08
        kind = "contractor" if rnd.random() < 0.10 else "employee"
        f.write(f"E{i},u{i}@corp.example,u{i},User {i},{kind},{'terminated' if term else 'active'},2018-01-01,"
                f"{day(2023) if term else ''},E{i // 20 * 20},Dept{i % 300}\n")
with open(f"{out}/report.csv", "w") as f:
    f.write(H)
    for i in range(n):
        f.write(f"u{i},arn:aws:iam::123456789012:user/u{i},2019-01-01T00:00:00+00:00,true,{day(2024)}T10:00:00+00:00,"
                f"{day()}T00:00:00+00:00,N/A,{'true' if rnd.random() < .8 else 'false'},true,{day()}T00:00:00+00:00,"
                f"{day(2024)}T09:00:00+00:00,us-east-1,s3,{'true' if rnd.random() < .3 else 'false'},{day()}T00:00:00+00:00,"
                f"N/A,N/A,N/A,false,N/A,false,N/A\n")
with open(f"{out}/inventory.csv", "w") as f:
    f.write("id,kind,system,owner,created,last_rotated,last_used,expires,status,scopes,readers\n")
    kinds = ["signing_key", "api_key", "shared_secret", "ssh_key", "db_user"]
    for i in range(n):
        created = f"{rnd.randint(2018, 2023)}-01-01"
        rotated = f"{rnd.randint(2024, 2025)}-06-01" if i % 2 else ""
        f.write(f"k{i},{kinds[i % 5]},sys{i % 40},u{i}@corp.example,{created},{rotated},{day(2025)},"
                f",active,read,team{i % (n // 20)};E{rnd.randrange(n)};E{rnd.randrange(n)}\n")
with open(f"{out}/groups.csv", "w") as f:
    f.write("group,member\n")
    for i in range(n):
        f.write(f"team{i % (n // 20)},E{i}\n")
