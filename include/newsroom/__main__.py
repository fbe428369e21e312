from newsroom.cli import main

raise SystemExit(main())
