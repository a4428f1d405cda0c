//! `async` and `poll`: a step given a time limit, and one started in the background and
//! followed with `async_status`.

use super::Case;

#[test]
fn async_steps_with_poll_and_fire_and_forget_with_async_status() {
    Case::new(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - command: echo hi
      async: 10
      poll: 1
      register: a
    - debug: msg="{{ a.stdout }} {{ a.finished }} {{ a.started }} {{ a.ansible_job_id is defined }}"
    - shell: sleep 1; echo done > {{ out }}/bg.txt
      async: 10
      poll: 0
      register: job
    - debug: msg="{{ job.finished }} {{ job.started }}"
    - async_status: jid={{ job.ansible_job_id }}
      register: s
      until: s.finished
      retries: 10
      delay: 1
    - debug: msg="{{ s.finished }} {{ s.rc }}"
    - command: sleep 3
      async: 1
      poll: 1
      ignore_errors: true
      register: t
    - debug: msg="{{ t.msg }} {{ t.async_result.finished }}"
    - async_status: jid=nope
      ignore_errors: true
      register: n
    - debug: msg="{{ n.msg }} {{ n.finished }}"
"#,
    )
    .same();
}
