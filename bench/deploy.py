"""bench/steps.yml for pyinfra 3: the same 20 operations (10 commands, 5 copies, 5 templates) in
the same order on the same hosts, as a pyinfra user writes them. bench/run runs it as
`pyinfra -y INVENTORY bench/deploy.py` from the repository's folder, with an inventory it writes
from inventories/bench (each host's `data_root` as host data)."""

from pyinfra import host
from pyinfra.operations import files, server

data_root = host.data.data_root
folder = f"{data_root}/bench"
# What the templates use, under the names the Ansible playbook gives them.
template_vars = {
    "inventory_hostname": host.name,
    "ansible_host": host.data.ssh_hostname,
    "data_root": data_root,
    "dir": folder,
}

server.shell(name="command 1: the bench folder", commands=[f"mkdir -p {folder}"])
files.put(name="copy 1", src="bench/files/file1.txt", dest=f"{folder}/file1.txt", mode="644")
server.shell(name="command 2: read back file 1", commands=[f"cat {folder}/file1.txt"])
files.template(name="template 1", src="bench/templates/config1.conf.j2", dest=f"{folder}/config1.con", mode="644", **template_vars)
server.shell(name="command 3: kernel", commands=["uname -r"])
files.put(name="copy 2", src="bench/files/file2.txt", dest=f"{folder}/file2.txt", mode="644")
server.shell(name="command 4: check config 1", commands=[f"test -f {folder}/config1.con"])
files.template(name="template 2", src="bench/templates/config2.conf.j2", dest=f"{folder}/config2.con", mode="644", **template_vars)
server.shell(name="command 5: user id", commands=["id -u"])
files.put(name="copy 3", src="bench/files/file3.txt", dest=f"{folder}/file3.txt", mode="644")
server.shell(name="command 6: size of file 2", commands=[f"wc -c {folder}/file2.txt"])
files.template(name="template 3", src="bench/templates/config3.conf.j2", dest=f"{folder}/config3.con", mode="644", **template_vars)
server.shell(name="command 7: list the folder", commands=[f"ls {folder}"])
files.put(name="copy 4", src="bench/files/file4.txt", dest=f"{folder}/file4.txt", mode="644")
server.shell(name="command 8: checksum of config 2", commands=[f"sha256sum {folder}/config2.con"])
files.template(name="template 4", src="bench/templates/config4.conf.j2", dest=f"{folder}/config4.con", mode="644", **template_vars)
server.shell(name="command 9: disk usage", commands=[f"du -s {folder}"])
files.put(name="copy 5", src="bench/files/file5.txt", dest=f"{folder}/file5.txt", mode="644")
server.shell(name="command 10: count config lines", commands=[f"grep -c = {folder}/config4.con"])
files.template(name="template 5", src="bench/templates/config5.conf.j2", dest=f"{folder}/config5.con", mode="644", **template_vars)
